"""Reboot, shut down, restart the toolstack. A host reboots or shuts down
only once disabled and empty (XAPI's rule); the action moves or stops its VMs
first, sends the call, then follows the host: down, and back up, live and
enabled; when it is the host this console talks to, through the reconnect."""

from __future__ import annotations

import time

from ...xapi import views
from ...xapi.cache import Cache
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field
from ..values import listing
from .hosts import guest_tuples, guests_on, host_or_refuse
from .maintenance import HALTED, MAINTENANCE, MIGRATED, Blocker, blocked_text, bring_back, set_keys

VM_CHOICES = ("move them", "shut them down")
BACK_SECONDS = 20 * 60  # how long to wait for a host to come back


class _HostPower(Action):
    title = ""
    verb = ""
    xe_verb = ""

    @staticmethod
    def fields(cache: Cache, host: str) -> list[Field]:
        if not guests_on(cache, host):
            return []
        return [Field("vms", "Its running VMs", VM_CHOICES[0], choices=VM_CHOICES)]

    def __init__(
        self,
        cache: Cache,
        host: str,
        blockers: list[Blocker],
        vms: str = VM_CHOICES[0],
        *,
        this_host: str = "",
    ):
        with cache.lock:
            rec = host_or_refuse(cache, host)
            self.host, self.uuid, self.name = host, rec.uuid, rec.name_label
            self.is_master = host == views.master_ref(cache)
            self.this_host = host == this_host
            self.bmc = rec.power_on_config.get("power_on_ip", "")
            self.guests = guest_tuples(cache, host)
            live = views.is_live(cache, rec)
        problems = []
        if not live:
            problems.append(f"{self.name} is not live")
        if vms not in VM_CHOICES:
            problems.append(f"for its VMs, choose one of {', '.join(VM_CHOICES)}")
        self.move = vms == VM_CHOICES[0]
        if self.move and blockers:
            problems.append(
                f"{len(blockers)} VM(s) cannot move: "
                + blocked_text(blockers)
                + ". Choose to shut them down, or use maintenance mode to choose per VM"
            )
        if problems:
            raise InvalidInput(problems)

    def _impact(self) -> list[str]:
        impact = []
        if self.guests:
            names = listing(g[2] for g in self.guests)
            impact.append(
                f"{len(self.guests)} VM(s) "
                + (
                    "live-migrate to the other hosts first: "
                    if self.move
                    else "are shut down (downtime): "
                )
                + names
            )
        if self.is_master:
            impact.append(
                "This is the pool master: while it is down the pool cannot be managed "
                "(its VMs on other hosts keep running)."
            )
        if self.this_host:
            impact.append("This console loses its connection to the host when it goes down.")
        return impact

    def _vm_step(self) -> str:
        if not self.guests:
            return "no VM runs here"
        return f"{'move' if self.move else 'shut down'} its {len(self.guests)} VM(s)"

    def _xe(self) -> list[str]:
        xe = [f"xe host-disable uuid={self.uuid}"]
        if self.guests:
            xe.append(
                f"xe host-evacuate uuid={self.uuid}"
                if self.move
                else f"xe vm-shutdown resident-on={self.uuid} --multiple"
            )
        return xe + [f"xe {self.xe_verb} uuid={self.uuid}"]

    def _empty_host(self, ctx: RunContext) -> None:
        """Disable, then move or stop the VMs; what was done is recorded like
        maintenance mode, so that leaving maintenance brings them back."""
        conn = ctx.conn
        ctx.on_undo(
            f"enable {self.name} and bring its VMs back", lambda: bring_back(conn, self.host)
        )
        uuids = ",".join(g[1] for g in self.guests)
        set_keys(
            conn,
            self.host,
            {
                MAINTENANCE: "true",
                MIGRATED: uuids if self.move else "",
                HALTED: "" if self.move else uuids,
            },
        )
        ctx.note(f"Disabling {self.name}")
        ctx.task("host.disable", self.host, span=(0.0, 0.05))
        if self.guests and self.move:
            ctx.note(f"Moving {len(self.guests)} VM(s) away")
            ctx.task("host.evacuate", self.host, span=(0.05, 0.5))
        for i, (vm, _uuid, name, state) in enumerate(self.guests if not self.move else ()):
            ctx.note(f"Shutting down {name}")
            step = (0.05 + 0.45 * i / len(self.guests), 0.05 + 0.45 * (i + 1) / len(self.guests))
            ctx.task(
                "VM.clean_shutdown" if state == "Running" else "VM.hard_shutdown", vm, span=step
            )

    def _send(self, ctx: RunContext, method: str) -> None:
        ctx.note(f"Sending {self.verb}")
        ctx.task(method, self.host, span=(0.5, 0.55))
        ctx.commit()  # from here on nothing can be taken back, and Esc only stops the wait


def host_down(ctx: RunContext, host: str):
    conn = ctx.conn

    def done() -> bool:
        rec = conn.cache.get("host", host)
        return conn.state != "connected" or (rec is not None and not views.is_live(conn.cache, rec))

    return done


def host_back(ctx: RunContext, host: str):
    conn = ctx.conn

    def done() -> bool:
        rec = conn.cache.get("host", host)
        return conn.state == "connected" and rec is not None and views.is_live(conn.cache, rec)

    return done


class RebootHost(_HostPower):
    calls = ("host.disable", "host.evacuate", "host.enable", "host.reboot")
    title, verb, xe_verb = "Reboot host", "the reboot", "host-reboot"

    def plan(self) -> Plan:
        return Plan(
            self.title,
            f"Disable {self.name}, {'move' if self.move else 'shut down'} its VMs, reboot it, "
            "and wait until it is back.",
            self._xe(),
            steps=["host.disable", self._vm_step(), "host.reboot", "wait until it is back"],
            impact=self._impact()
            + [
                "After the reboot the host enables itself; its VMs stay where they went (x brings them back)."
            ],
            risk="high",
            confirm_word="reboot",
        )

    def run(self, ctx: RunContext) -> str:
        self._empty_host(ctx)
        self._send(ctx, "host.reboot")
        ctx.progress(0.6)
        if not ctx.wait_until(
            f"Waiting for {self.name} to go down...", host_down(ctx, self.host), 600
        ):
            return f"The reboot of {self.name} was sent; stopped waiting for it."
        ctx.progress(0.7)
        started = time.monotonic()
        if not ctx.wait_until(
            f"{self.name} is rebooting; waiting for it to come back (usually a few minutes)...",
            host_back(ctx, self.host),
            BACK_SECONDS,
        ):
            return f"{self.name} is rebooting; stopped waiting for it to come back."
        ctx.progress(1.0)
        back = f"{self.name} is back after {int(time.monotonic() - started)} s."
        if self.guests:
            back += " Its VMs are still away: press x to bring them back."
        return back


class ShutdownHost(_HostPower):
    calls = ("host.disable", "host.evacuate", "host.enable", "host.shutdown")
    title, verb, xe_verb = "Shut down host", "the shutdown", "host-shutdown"

    def plan(self) -> Plan:
        back = (
            f"Power it on again from its BMC (iLO/DRAC at {self.bmc})."
            if self.bmc
            else "Power it on again at the machine or its BMC: the pool does not know its BMC address."
        )
        return Plan(
            self.title,
            f"Disable {self.name}, {'move' if self.move else 'shut down'} its VMs and power it off.",
            self._xe(),
            steps=["host.disable", self._vm_step(), "host.shutdown"],
            impact=self._impact() + [back],
            risk="high",
            confirm_word="shutdown",
        )

    def run(self, ctx: RunContext) -> str:
        self._empty_host(ctx)
        self._send(ctx, "host.shutdown")
        if not ctx.wait_until(
            f"Waiting for {self.name} to power off...", host_down(ctx, self.host), 600
        ):
            return f"The shutdown of {self.name} was sent; stopped waiting for it."
        return f"{self.name} is off." + (f" Its BMC: {self.bmc}." if self.bmc else "")


class RestartToolstack(Action):
    calls = ("host.restart_agent",)

    def __init__(self, cache: Cache, host: str, *, this_host: str = ""):
        with cache.lock:
            rec = host_or_refuse(cache, host)
            if not views.is_live(cache, rec):
                raise InvalidInput(
                    [f"{rec.name_label} is not live: its toolstack cannot be asked to restart"]
                )
            self.host, self.uuid, self.name = host, rec.uuid, rec.name_label
            self.is_master = host == views.master_ref(cache)
        self.this_host = host == this_host

    def plan(self) -> Plan:
        impact = ["VMs keep running. Tasks running on this host's toolstack are lost."]
        if self.is_master:
            impact.append(
                "This is the pool master: every API client of the pool (XenCenter, XO, this "
                "console) loses its connection for about 30 s; this console reconnects by itself."
            )
        return Plan(
            "Restart toolstack",
            f"Restart the XAPI toolstack of {self.name} (xe-toolstack-restart).",
            [f"xe host-restart-agent uuid={self.uuid}"],
            steps=["host.restart_agent", "reconnect"],
            impact=impact,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("host.restart_agent", self.host, span=(0.0, 0.3))
        ctx.commit()
        if not self.is_master:
            return f"The toolstack of {self.name} is restarting."
        conn = ctx.conn
        if ctx.wait_until(
            "Waiting for the toolstack to stop...", lambda: conn.state != "connected", 15
        ):
            ctx.progress(0.6)
            ctx.wait_until("Reconnecting...", host_back(ctx, self.host), 300)
        ctx.progress(1.0)
        if conn.state != "connected":
            return f"The toolstack of {self.name} was restarted; the console is still reconnecting."
        return f"The toolstack of {self.name} was restarted and the console is connected again."
