"""Benchmark (on demand: ``make bench``): ``VM.get_record`` calls a second
that one stock XenAPI client (XML-RPC, kept-alive connection) gets from the
simulator in another process (goal, issue #24: at least 1000), beside its
floor measured in the same run: Python's own XML-RPC server
(xmlrpc.server, keep-alive, in another process) answering the same record
to the same client. Each figure is the median of ``--rounds`` rounds."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import XenAPI

from tests.bench.start import sim

FLOOR_SERVER = """
import json, sys
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

class Handler(SimpleXMLRPCRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive, as the simulator's

record = json.loads(sys.stdin.read())
server = SimpleXMLRPCServer(("127.0.0.1", 0), Handler, logRequests=False, allow_none=True)
server.register_function(lambda *a: {"Status": "Success", "Value": record}, "VM.get_record")
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def rate(call, calls: int, rounds: int) -> int:
    for _ in range(50):  # warm
        call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        samples.append(calls / (time.perf_counter() - started))
    return round(sorted(samples)[len(samples) // 2])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    proc, url, _control = sim("demo")
    try:
        session = XenAPI.Session(url)
        session.xenapi.login_with_password("root", "bench", "1.0", "bench-calls")
        vm = next(
            ref
            for ref, rec in session.xenapi.VM.get_all_records().items()
            if not rec["is_a_template"] and not rec["is_control_domain"]
        )
        record = session.xenapi.VM.get_record(vm)
        simulator = rate(lambda: session.xenapi.VM.get_record(vm), args.calls, args.rounds)
        session.xenapi.session.logout()
    finally:
        proc.terminate()
        proc.wait(10)
    floor_proc = subprocess.Popen(
        [sys.executable, "-c", FLOOR_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        floor_proc.stdin.write(json.dumps(record, default=str))
        floor_proc.stdin.close()
        port = floor_proc.stdout.readline().strip()
        floor = XenAPI.Session(f"http://127.0.0.1:{port}")
        floor._session = "OpaqueRef:floor"  # no login: the floor answers one method
        floor_rate = rate(lambda: floor.xenapi.VM.get_record(vm), args.calls, args.rounds)
    finally:
        floor_proc.terminate()
        floor_proc.wait(10)
    result = {
        "vm_get_record_per_s": simulator,
        "floor_xmlrpc_server_per_s": floor_rate,
        "ratio_to_floor": round(simulator / floor_rate, 2),
        "goal_per_s": 1000,
    }
    print(
        f"VM.get_record, one stock XenAPI client: simulator {simulator}/s; floor (xmlrpc.server, "
        f"same record) {floor_rate}/s; goal 1000/s"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
