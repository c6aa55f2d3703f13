"""Fault injection outside the XAPI namespace, for tests and for an admin
rehearsing a recovery: kill a host, bring it back, list the hosts as the
simulator sees them, count the calls it answered. Served on its own loopback-only listener (``xstui sim``
prints its URL), driven by ``xstui sim-ctl URL ACTION [HOST]``; every
request carries the simulator's password."""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import TYPE_CHECKING

from . import CONTROL_ACTIONS as ACTIONS
from . import METRICS_ACTIONS
from .request import LeanRequest

if TYPE_CHECKING:
    from .simulator import Simulator

SLOW_SECONDS = 10.0
MAX_BODY = 4096


def host_rows(sim: Simulator) -> list[dict]:
    st = sim.store
    with st.lock:
        rows = []
        for ref, h in sorted(st.table("host").items(), key=lambda item: item[1]["name_label"]):
            metrics = st.table("host_metrics").get(h["metrics"], {})
            rows.append(
                {
                    "name": h["name_label"],
                    "address": h["address"],
                    "master": ref == sim.master,
                    "live": bool(metrics.get("live", True)),
                    "listening": ref not in sim.down,
                    "believes_master": st.get("host", sim.master_of(ref))["name_label"],
                }
            )
        return rows


def perform(sim: Simulator, action: str, host_name: str = "") -> dict:
    """Run one control action; a dict to send back (``error`` when refused)."""
    if action not in ACTIONS:
        return {"error": f"unknown action {action!r} (one of {', '.join(ACTIONS)})"}
    if action == "hosts":
        return {"hosts": host_rows(sim)}
    if action == "calls":
        return sim.call_counts()
    if action == "lose-statefile":
        sim.lose_statefile()
        return {"done": "every host lost the HA statefile: HA is on but broken"}
    host = sim.store.find_one("host", name_label=host_name)
    if host is None:
        names = ", ".join(r["name"] for r in host_rows(sim))
        return {"error": f"no host named {host_name!r} (hosts: {names})"}
    if action in METRICS_ACTIONS:
        fault = action.removeprefix("metrics-")
        if fault == "ok":
            sim.metrics_faults.pop(host, None)
            return {"done": f"{host_name}'s performance data is served again"}
        sim.metrics_faults[host] = (fault, SLOW_SECONDS)
        return {"done": f"{host_name}'s performance data endpoints now: {fault}"}
    if action == "kill-host":
        sim.kill_host(host)
        return {"done": f"{host_name} is dead: its listener stopped, host_metrics.live is false"}
    if action == "memory-step":
        return {"done": f"{host_name} has {sim.memory_step(host) >> 20} MiB free"}
    if action == "cut-heartbeat":
        sim.cut_heartbeat(host)
        return {"done": f"{host_name} lost its network heartbeat (with HA on it fences itself)"}
    sim.revive_host(host)
    return {"done": f"{host_name} is back"}


def handler_for(sim: Simulator):
    class Control(LeanRequest):
        server_version = "xstui-sim-control"

        def log_message(self, *args):
            pass

        def _reply(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802
            if not ipaddress.ip_address(self.client_address[0]).is_loopback:
                self._reply(403, {"error": "the control endpoint answers loopback clients only"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 < length <= MAX_BODY:
                    raise ValueError("body size")
                request = json.loads(self.rfile.read(length))
                password, action = str(request["password"]), str(request["action"])
                host = str(request.get("host", ""))
            except (ValueError, KeyError, TypeError):
                self._reply(400, {"error": 'send {"password": ..., "action": ..., "host": ...}'})
                return
            if not hmac.compare_digest(password.encode(), sim.password.encode()):
                self._reply(403, {"error": "wrong password"})
                return
            result = perform(sim, action, host)
            self._reply(400 if "error" in result else 200, result)

    return Control
