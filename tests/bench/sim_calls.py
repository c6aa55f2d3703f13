"""Benchmark (on demand: ``make bench``): ``VM.get_record`` calls a second
that one stock XenAPI client (XML-RPC, kept-alive connection) gets from the
simulator in another process (goal, issue #24: at least 1000), beside its
floor measured in the same run: Python's own XML-RPC server
(xmlrpc.server, keep-alive, in another process) answering the same record
to the same client. Beside them, the client's own ceiling: a server that
answers every call with the simulator's reply, made once (the client's
parsing of a ~100-member record is most of a call's time). Each figure is
the median of ``--rounds`` rounds."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import xmlrpc.client

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

CEILING_SERVER = """
import socket, sys
reply = sys.stdin.buffer.read()
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
pending = b""
while chunk := conn.recv(65536):
    pending += chunk
    while (end := pending.find(b"</methodCall>")) >= 0:  # one whole request
        pending = pending[end + len(b"</methodCall>"):]
        conn.sendall(reply)
"""


def serve(script: str, data: bytes) -> tuple[subprocess.Popen, str]:
    """A floor server in its own process, given ``data``: it and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    proc.stdin.write(data)
    proc.stdin.close()
    return proc, f"http://127.0.0.1:{proc.stdout.readline().decode().strip()}"


def floor_rate(script: str, data: bytes, vm: str, args) -> int:
    proc, url = serve(script, data)
    try:
        floor = XenAPI.Session(url)
        floor._session = "OpaqueRef:floor"  # no login: a floor answers one method
        return rate(lambda: floor.xenapi.VM.get_record(vm), args.calls, args.rounds)
    finally:
        proc.terminate()
        proc.wait(10)


def reply_bytes(url: str, session: str, vm: str) -> bytes:
    """The simulator's whole HTTP reply to one VM.get_record, as sent."""
    where = urllib.parse.urlparse(url)
    body = xmlrpc.client.dumps((session, vm), "VM.get_record").encode()
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(
            b"POST / HTTP/1.1\r\nHost: sim\r\nContent-Type: text/xml\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    return reply.replace(b"Connection: close\r\n", b"")


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
        reply = reply_bytes(url, session._session, vm)
        simulator = rate(lambda: session.xenapi.VM.get_record(vm), args.calls, args.rounds)
        session.xenapi.session.logout()
    finally:
        proc.terminate()
        proc.wait(10)
    floor = floor_rate(FLOOR_SERVER, json.dumps(record, default=str).encode(), vm, args)
    ceiling = floor_rate(CEILING_SERVER, reply, vm, args)
    result = {
        "vm_get_record_per_s": simulator,
        "floor_xmlrpc_server_per_s": floor,
        "ratio_to_floor": round(simulator / floor, 2),
        "ceiling_canned_reply_per_s": ceiling,
        "goal_per_s": 1000,
    }
    print(
        f"VM.get_record, one stock XenAPI client: simulator {simulator}/s; floor (xmlrpc.server, "
        f"same record) {floor}/s; the client's ceiling (the same reply, made once) "
        f"{ceiling}/s; goal 1000/s"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
