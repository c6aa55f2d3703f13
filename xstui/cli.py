"""Command line: ``xstui [demo|connect URL|local|sim|status|check]``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from . import __version__
from .areas import see
from .script import EXIT_USAGE, fail, say
from .sim import CONTROL_ACTIONS


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, exit 2
        self.exit(EXIT_USAGE, f"xstui: {message} (see 'xstui --help')\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="xstui", description="Administer XenServer / XCP-ng hosts and pools through XAPI."
    )
    p.add_argument("--version", action="version", version=f"xstui {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    d = sub.add_parser(
        "demo", help="start the built-in simulator with the demo pool and open the console"
    )
    d.add_argument(
        "--release",
        default="",
        metavar="NAME",
        help="play this product release (xenserver-6.5, xenserver-7.1, citrix-hypervisor-8.2, "
        "xcp-ng-8.2, xcp-ng-8.3, xenserver-8, latest; default: the demo's own, latest)",
    )
    d.add_argument(
        "--dom0",
        action="store_true",
        help="as if in dom0 of the master: the simulator's socket and a fake dom0 in a temp folder",
    )
    d.add_argument(
        "--dr",
        action="store_true",
        help="the disaster-recovery rehearsal: a recovery pool whose iSCSI LUN holds another "
        f"pool's SR and database: {see('backup', 'R')} recovers its VMs",
    )
    c = sub.add_parser("connect", help="open the console on a pool master (https://HOST)")
    c.add_argument("target", help="https://HOST[:PORT], http://HOST:PORT (labs), local or demo")
    c.add_argument("--user", default="root", help="user name (default root)")
    local = sub.add_parser("local", help="open the console on this host through dom0's XAPI socket")
    f = sub.add_parser(
        "fleet", help="open the console on the overview of several pools (F12 in the console)"
    )
    f.add_argument(
        "fleet", metavar="FILE|GROUP", help="a fleet file (YAML) or a group of saved targets"
    )
    f.add_argument(
        "--baseline",
        metavar="FILE",
        help="the overview's Drift: hosts of each pool out of this update baseline "
        "(the YAML of check --baseline)",
    )
    for console in (d, c, local, f):
        console.add_argument(
            "--slow-link",
            action="store_true",
            help="a slow terminal link: the screen is written at most every 2 s, a key's answer "
            "at once (a serial console at 115200 baud or slower is one without it; "
            "XSTUI_SLOW_LINK=0 or 1 decides too)",
        )

    for command in area_commands():
        command.arguments(sub.add_parser(command.name, help=command.help))

    s = sub.add_parser("sim", help="run the XAPI simulator until Ctrl-C")
    s.add_argument(
        "--scenario",
        default="demo",
        help="built-in scenario name or YAML file (default: demo); fleet:POOLS,HOSTS,VMS "
        "serves that many pools, each on addresses of its own",
    )
    s.add_argument(
        "--write-fleet",
        metavar="FILE",
        help="with fleet:P,H,V, write the fleet file of the pools served (for check --fleet)",
    )
    s.add_argument(
        "--dump", metavar="FILE", help="serve a real pool database dump (xe pool-dump-database)"
    )
    s.add_argument(
        "--release",
        default="",
        metavar="NAME",
        help="play this product release instead of the scenario's (see xstui demo --release)",
    )
    s.add_argument(
        "--address", help="address to listen on (default: the master's loopback address)"
    )
    s.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    s.add_argument(
        "--tls",
        action="store_true",
        help="HTTPS, each host with a fresh self-signed certificate (the one the pool records)",
    )
    s.add_argument(
        "--unix-socket",
        metavar="PATH",
        help="also listen on a unix socket (trusted logins, like dom0)",
    )
    s.add_argument("--password", help="root password (default: random, printed)")
    s.add_argument(
        "--latency", type=float, default=0, metavar="MS", help="delay every call by MS milliseconds"
    )
    s.add_argument(
        "--reboot-seconds",
        type=float,
        default=6.0,
        metavar="S",
        help="how long a rebooting host is away (default 6)",
    )
    s.add_argument(
        "--toolstack-seconds",
        type=float,
        default=3.0,
        metavar="S",
        help="how long a toolstack restart takes (default 3)",
    )
    s.add_argument(
        "--data-scale",
        type=float,
        default=1 / 1024,
        metavar="F",
        help="bytes of disk data exported per byte a VDI uses (default 1/1024; 1: real sizes)",
    )
    s.add_argument(
        "--schedule-speed",
        type=float,
        default=0,
        metavar="X",
        help="run the snapshot schedules when due, on a clock X times as fast "
        "(60: a minute a second, as xstui demo; default 0: only when run now)",
    )
    k = sub.add_parser(
        "sim-ctl",
        help="inject a fault into a running simulator (kill or revive a host), count its calls",
    )
    k.add_argument("url", help="the control URL that xstui sim printed")
    k.add_argument(
        "action",
        choices=CONTROL_ACTIONS,
    )
    k.add_argument("host", nargs="?", default="", help="host name (all but hosts, lose-statefile)")
    k.add_argument("--password", help="the simulator's password (default: $XSTUI_PASSWORD)")
    return p


def run_sim_ctl(args) -> int:
    import json
    import urllib.error
    import urllib.request

    password = args.password or os.environ.get("XSTUI_PASSWORD", "")
    if not password:
        return fail("give the simulator's password (--password or XSTUI_PASSWORD)")
    if args.action not in ("hosts", "lose-statefile", "calls") and not args.host:
        return fail(f"{args.action} needs a host name")
    body = json.dumps({"password": password, "action": args.action, "host": args.host}).encode()
    request = urllib.request.Request(
        args.url.rstrip("/") + "/", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            result = json.loads(reply.read())
    except urllib.error.HTTPError as err:
        try:
            return fail(json.loads(err.read()).get("error", str(err)))
        except ValueError:
            return fail(str(err))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return fail(f"no simulator control endpoint at {args.url}: {exc}", 3)
    if "calls" in result:  # for scripts and benchmarks: JSON, see Simulator.call_counts
        say(json.dumps(result))
    elif "hosts" in result:
        for h in result["hosts"]:
            state = ("master" if h["master"] else "member") + ("" if h["live"] else ", DEAD")
            say(f"{h['name']:<12} {h['address']:<15} {state:<14} follows {h['believes_master']}")
    else:
        say(result.get("done", ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "slow_link", False):
        os.environ["XSTUI_SLOW_LINK"] = "1"  # read by the terminal driver (terminal.pace)
    if args.command == "sim":
        return run_sim(args)
    if args.command == "sim-ctl":
        return run_sim_ctl(args)
    for command in area_commands():
        if args.command == command.name:
            return _piped(command.run, args)
    if args.command == "demo" and args.release and args.release not in release_names():
        return fail(unknown_release(args.release))
    if args.command == "demo" and args.dom0:
        from .demo import dom0_rehearsal

        with dom0_rehearsal(release=args.release):
            return run_app("local")
    if args.command == "demo":
        return run_app("demo", demo_release=args.release, demo_scenario="dr" if args.dr else "demo")
    if args.command == "connect":
        return run_app(args.target, args.user)
    if args.command == "local":
        return run_app("local")
    if args.command == "fleet":
        return run_fleet_app(args.fleet, args.baseline)
    from .xapi.targets import in_dom0

    return run_app("local" if in_dom0() else "")


def area_commands():
    from .areas import commands

    return commands()


def _piped(run, args) -> int:
    """Run a command whose output may go to a pipe that closes early
    (``xstui status demo | head -3``): stop quietly, no traceback."""
    try:
        code = run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null first
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def run_sim(args) -> int:
    from .sim.runner import start_simulator
    from .sim.scenario import ScenarioError

    if args.scenario.startswith("fleet:"):
        return run_sim_fleet(args)
    if args.write_fleet:
        return fail("--write-fleet goes with --scenario fleet:POOLS,HOSTS,VMS")
    if not 0 <= args.port <= 65535:
        return fail(f"port {args.port} is out of range 0-65535")
    if args.latency < 0:
        return fail("latency cannot be negative")
    if not (0 <= args.reboot_seconds <= 3600 and 0 <= args.toolstack_seconds <= 3600):
        return fail("reboot and toolstack seconds are 0 to 3600")
    if not 0 < args.data_scale <= 1:
        return fail("data scale is above 0 and at most 1")
    if not 0 <= args.schedule_speed <= 86400:
        return fail("schedule speed is 0 to 86400 (a day a second)")
    if args.release and args.release not in release_names():
        return fail(unknown_release(args.release))
    if args.release and args.dump:
        return fail("a pool database dump plays the release it was taken from: no --release")
    try:
        running = start_simulator(
            args.scenario,
            dump=args.dump,
            address=args.address,
            port=args.port,
            tls=args.tls,
            own_certificates=args.tls,
            unix_socket=args.unix_socket,
            password=args.password,
            latency_ms=args.latency,
            release=args.release,
            schedule_speed=args.schedule_speed,
        )
    except ScenarioError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot listen: {exc.strerror or exc}")
    running.sim.reboot_seconds = args.reboot_seconds
    running.sim.agent_restart_seconds = args.toolstack_seconds
    running.sim.data_scale = args.data_scale
    store = running.sim.store
    pool = store.get("pool", running.sim.pool)
    say(
        f"xstui simulator: pool {pool['name_label']!r}, {len(store.table('host'))} hosts, "
        f"{sum(1 for v in store.table('VM').values() if not v['is_a_template'] and not v['is_control_domain'])} VMs"
    )
    say(f"  master   {running.url}")
    for name, url in running.member_urls.items():
        say(f"  member   {url}  ({name})")
    for name, alone in running.standalone.items():
        say(f"  alone    {alone.url}  {name}, a pool of its own: {see('host', 'J')} joins it")
    if running.unix_socket:
        say(f"  socket   {running.unix_socket}  (trusted, like dom0's /var/lib/xcp/xapi)")
    say(f"  control  {running.control_url}  (xstui sim-ctl URL {'|'.join(CONTROL_ACTIONS)} [NAME])")
    if running.fingerprint:
        say(
            f"  TLS SHA-256 fingerprint {running.fingerprint} (the master's; each host has its own)"
        )
    say(f"  login    root / {running.password}")
    _serve_until_stopped(running.close)
    return 0


def _serve_until_stopped(close) -> None:
    """Until Ctrl-C (SIGINT, even when started with it ignored, as a script's
    background job is) or SIGTERM, then ``close``."""
    say("Ctrl-C to stop.")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    close()


def run_sim_fleet(args) -> int:
    """Serve several pools (xstui.sim.fleet) until Ctrl-C."""
    from .services.fleet.targets import write_fleet
    from .sim.fleet import start_fleet
    from .sim.scenario import ScenarioError

    alone = ("dump", "address", "unix_socket", "release")
    given = [f"--{a.replace('_', '-')}" for a in alone if getattr(args, a)] + (
        ["--port"] if args.port else []
    )
    if given:
        return fail(f"a fleet chooses its own addresses and ports: no {', '.join(given)}")
    try:
        fleet = start_fleet(args.scenario, password=args.password, tls=args.tls)
    except ScenarioError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot listen: {exc.strerror or exc}")
    if args.write_fleet:
        try:
            write_fleet(args.write_fleet, fleet.fleet())
        except OSError as exc:
            fleet.close()
            return fail(f"{args.write_fleet}: cannot be written ({exc.strerror or exc})")
    say(f"xstui simulator: a fleet of {len(fleet.pools)} pools")
    for pool in fleet.pools:
        control = f"  control {pool.running.control_url}" if pool.running else ""
        say(f"  {pool.name:<10} {pool.url:<28} {pool.kind:<17}{control}".rstrip())
    if args.write_fleet:
        say(f"  fleet file {args.write_fleet}")
    say(f"  login    root / {fleet.password}  (every pool)")
    _serve_until_stopped(fleet.close)
    return 0


def release_names():
    from .sim.profiles import PROFILES

    return PROFILES


def unknown_release(name: str) -> str:
    from .sim.profiles import unknown

    return unknown(name)


def run_app(
    target: str, user: str = "root", demo_release: str = "", demo_scenario: str = "demo"
) -> int:
    from .xapi.targets import TargetError, parse_target

    if target:
        try:
            parse_target(target)
        except TargetError as exc:
            return fail(str(exc))
    from .login import HeadStart
    from .xapi.config import Config

    config = Config.load()
    head_start = HeadStart.wanted(target, user, config)  # while Textual is imported
    from .app import XstuiApp

    XstuiApp(
        target=target,
        user=user,
        config=config,
        demo_release=demo_release,
        demo_scenario=demo_scenario,
        head_start=head_start,
    ).run()
    return 0


def run_fleet_app(text: str, baseline_file: str | None = None) -> int:
    from .services.fleet.cli import refuse
    from .services.fleet.targets import FleetError, resolve_fleet
    from .xapi.config import Config

    try:
        pools = resolve_fleet(text, Config.load())
    except FleetError as exc:
        return refuse(exc)
    baseline = None
    if baseline_file:
        from .services.updates.baseline import BaselineError, load

        try:
            baseline = load(baseline_file)
        except BaselineError as exc:
            return fail(str(exc), EXIT_USAGE)
    from .app import XstuiApp

    XstuiApp(fleet=pools, fleet_baseline=baseline).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
