"""Command line: ``xstui [demo|connect URL|local|sim|status|check]``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import __version__

EXIT_USAGE = 2
EXIT_CONNECT = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, exit 2
        self.exit(EXIT_USAGE, f"xstui: {message} (see 'xstui --help')\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="xstui", description="Administer XenServer / XCP-ng hosts and pools through XAPI."
    )
    p.add_argument("--version", action="version", version=f"xstui {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    sub.add_parser(
        "demo", help="start the built-in simulator with the demo pool and open the console"
    )
    c = sub.add_parser("connect", help="open the console on a pool master (https://HOST)")
    c.add_argument("target", help="https://HOST[:PORT], http://HOST:PORT (labs), local or demo")
    c.add_argument("--user", default="root", help="user name (default root)")
    sub.add_parser("local", help="open the console on this host through dom0's XAPI socket")

    st = sub.add_parser("status", help="print the status of a pool (no TUI)")
    st.add_argument("target", help="https://HOST, local or demo")
    st.add_argument("--json", action="store_true", help="print JSON (the only format for now)")
    st.add_argument("--user", default="root", help="user name (default root)")
    st.add_argument("--fingerprint", help="trust this SHA-256 certificate fingerprint (saved)")

    ck = sub.add_parser(
        "check", help="check the pool's consistency (exit 1 when something is found)"
    )
    ck.add_argument("target", help="https://HOST, local or demo")
    ck.add_argument("--json", action="store_true", help="print the findings as JSON")
    ck.add_argument("--user", default="root", help="user name (default root)")
    ck.add_argument("--fingerprint", help="trust this SHA-256 certificate fingerprint (saved)")

    s = sub.add_parser("sim", help="run the XAPI simulator until Ctrl-C")
    s.add_argument(
        "--scenario", default="demo", help="built-in scenario name or YAML file (default: demo)"
    )
    s.add_argument(
        "--dump", metavar="FILE", help="serve a real pool database dump (xe pool-dump-database)"
    )
    s.add_argument(
        "--address", help="address to listen on (default: the master's loopback address)"
    )
    s.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    s.add_argument("--tls", action="store_true", help="HTTPS with a fresh self-signed certificate")
    s.add_argument(
        "--unix-socket",
        metavar="PATH",
        help="also listen on a unix socket (trusted logins, like dom0)",
    )
    s.add_argument("--password", help="root password (default: random, printed)")
    s.add_argument(
        "--latency", type=float, default=0, metavar="MS", help="delay every call by MS milliseconds"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sim":
        return run_sim(args)
    if args.command == "status":
        return run_status(args)
    if args.command == "check":
        return run_check(args)
    if args.command == "demo":
        return run_app("demo")
    if args.command == "connect":
        return run_app(args.target, args.user)
    if args.command == "local":
        return run_app("local")
    from .xapi.targets import in_dom0

    return run_app("local" if in_dom0() else "")


def _fail(message: str) -> int:
    print(f"xstui: {message}", file=sys.stderr)
    return EXIT_USAGE


def run_sim(args) -> int:
    from .sim.runner import start_simulator
    from .sim.scenario import ScenarioError

    if not 0 <= args.port <= 65535:
        return _fail(f"port {args.port} is out of range 0-65535")
    if args.latency < 0:
        return _fail("latency cannot be negative")
    try:
        running = start_simulator(
            args.scenario,
            dump=args.dump,
            address=args.address,
            port=args.port,
            tls=args.tls,
            unix_socket=args.unix_socket,
            password=args.password,
            latency_ms=args.latency,
        )
    except ScenarioError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot listen: {exc.strerror or exc}")
    store = running.sim.store
    pool = store.get("pool", running.sim.pool)
    print(
        f"xstui simulator: pool {pool['name_label']!r}, {len(store.table('host'))} hosts, "
        f"{sum(1 for v in store.table('VM').values() if not v['is_a_template'] and not v['is_control_domain'])} VMs"
    )
    print(f"  master   {running.url}")
    for name, url in running.member_urls.items():
        print(f"  member   {url}  ({name})")
    if running.unix_socket:
        print(f"  socket   {running.unix_socket}  (trusted, like dom0's /var/lib/xcp/xapi)")
    if running.fingerprint:
        print(f"  TLS SHA-256 fingerprint {running.fingerprint}")
    print(f"  login    root / {running.password}")
    print("Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    running.close()
    return 0


def run_app(target: str, user: str = "root") -> int:
    from .xapi.targets import TargetError, parse_target

    if target:
        try:
            parse_target(target)
        except TargetError as exc:
            return _fail(str(exc))
    from .app import XstuiApp

    XstuiApp(target=target, user=user).run()
    return 0


def login_for_script(target_text: str, user: str, fingerprint: str | None = None):
    """Log in without a TUI: (connection, demo or None). Exits 2 on usage
    errors and 3 on connection or authentication failures, with one line."""
    import getpass
    import os

    from .xapi.config import Config
    from .xapi.connection import ConnectError, Connection
    from .xapi.demo import start_demo
    from .xapi.targets import TargetError, parse_target

    try:
        target = parse_target(target_text)
    except TargetError as exc:
        raise SystemExit(_fail(str(exc))) from None
    demo, password = None, os.environ.get("XSTUI_PASSWORD", "")
    if target.kind == "demo":
        demo = start_demo()
        target, password = demo.target, demo.password
    elif target.kind == "remote" and not password:
        if not sys.stdin.isatty():
            raise SystemExit(
                _fail_connect("no password: set XSTUI_PASSWORD or run from a terminal")
            )
        password = getpass.getpass(f"Password for {user}@{target.url}: ")
    config = Config.load()
    if fingerprint:
        config.fingerprints[target.trust_key] = fingerprint.upper()
    conn = Connection(target, user, password, fingerprints=config.fingerprints)
    try:
        conn.login()
    except ConnectError as err:
        if err.kind == "trust" and not err.pinned and sys.stdin.isatty():
            answer = input(f"{err}\nTrust this certificate? [y/N] ").strip().lower()
            if answer == "y":
                config.fingerprints[err.target.trust_key] = err.fingerprint
                config.save()
                return login_for_script(target_text, user)
        hint = " (pass --fingerprint SHA256 to trust it)" if err.kind == "trust" else ""
        raise SystemExit(_fail_connect(str(err).splitlines()[0] + hint)) from None
    if fingerprint:
        config.save()
    return conn, demo


def _fail_connect(message: str) -> int:
    print(f"xstui: {message}", file=sys.stderr)
    return EXIT_CONNECT


def _with_pool(args, compute):
    """Log in, load the pool with one event.from, compute, log out. Connection
    and API failures exit 3 with one line."""
    from .xapi.connection import ConnectionLost, XapiFailure

    conn, demo = login_for_script(args.target, args.user, args.fingerprint)
    try:
        conn.load_once()
        return compute(conn)
    except (XapiFailure, ConnectionLost) as exc:
        raise SystemExit(_fail_connect(str(exc))) from None
    finally:
        conn.close()
        if demo:
            demo.close()


def run_check(args) -> int:
    import json

    from .services.consistency import check_pool

    findings = _with_pool(args, lambda conn: check_pool(conn.cache))
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        for f in findings:
            print(f"{f.severity:<8} {f.rule:<10} {f.text}")
        print(f"{len(findings)} finding(s)" if findings else "The pool is consistent.")
    return 1 if findings else 0


def run_status(args) -> int:
    import json

    from .services.status import build_status
    from .xapi.tls import live_fingerprint

    def status(conn):
        fingerprint, source = live_fingerprint(conn.target)
        dom0 = None
        if conn.target.kind == "local":
            from .services.dom0 import dom0_status

            dom0 = dom0_status()
        return build_status(
            conn.cache,
            conn.this_host,
            fingerprint=fingerprint,
            fingerprint_source=source,
            dom0=dom0,
        )

    print(json.dumps(_with_pool(args, status).to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
