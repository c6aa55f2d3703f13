"""What the one-shot commands (``xstui status``, ``xstui check``, …) share:
the command declaration an area lists, its common arguments, and logging in
without a TUI. No Textual here."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .services.values import printable

EXIT_FAILED = 1  # it ran and failed (what it had done undone), or was not confirmed
EXIT_USAGE = 2  # refused before anything changed: arguments, names, files, checks
EXIT_CONNECT = 3  # the pool could not be reached, refused the login, or went away
EXIT_INTERRUPTED = 130  # Ctrl-C


@dataclass(frozen=True)
class CliCommand:
    """A subcommand an area offers: ``xstui NAME TARGET …``."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def target_arguments(parser: argparse.ArgumentParser, fleet: bool = False) -> None:
    """TARGET, --json, --user, --fingerprint: what every one-shot command takes
    (``fleet``: TARGET may be left out for --fleet)."""
    parser.add_argument(
        "target",
        nargs="?" if fleet else None,
        default="",
        help="https://HOST, local or demo" + (" (or --fleet)" if fleet else ""),
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--user", default="root", help="user name (default root)")
    parser.add_argument("--fingerprint", help="trust this SHA-256 certificate fingerprint (saved)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=60,
        metavar="SECONDS",
        help="give up on a call after this long (default 60)"
        + ("; with --fleet, on a pool" if fleet else ""),
    )


def say(text: str, file=None, end: str = "\n") -> None:
    """Write one line to the terminal (stdout unless ``file``): every CLI
    line but JSON goes through here, so that text from a server or a file
    has its control characters escaped (:func:`printable`). JSON needs none:
    json.dumps escapes them itself."""
    print(printable(str(text)), file=file or sys.stdout, end=end, flush=True)


def fail(message: str, code: int = EXIT_USAGE) -> int:
    say(f"xstui: {message}", file=sys.stderr)
    return code


def login_for_script(
    target_text: str, user: str, fingerprint: str | None = None, timeout: float = 60
):
    """Log in without a TUI: (connection, demo or None). Exits 2 on usage
    errors and 3 on connection or authentication failures, with one line.
    Questions go to the terminal's stderr, never to stdout (it may be piped)."""
    from .areas import watched_types
    from .demo import start_demo
    from .xapi.config import Config
    from .xapi.connection import ConnectError, Connection
    from .xapi.targets import TargetError, parse_target
    from .xapi.tls import FingerprintError, parse_fingerprint

    try:
        target = parse_target(target_text)
        pin = parse_fingerprint(fingerprint) if fingerprint else ""
    except TargetError as exc:
        raise SystemExit(fail(str(exc))) from None
    except FingerprintError as exc:
        raise SystemExit(fail(f"--fingerprint: {exc}")) from None
    demo, password = None, os.environ.get("XSTUI_PASSWORD", "")
    if target.kind == "demo":
        demo = start_demo()
        target, password = demo.target, demo.password
    elif target.kind == "remote" and not password:
        if not sys.stdin.isatty():
            raise SystemExit(
                fail("no password: set XSTUI_PASSWORD or run from a terminal", EXIT_CONNECT)
            )
        password = getpass.getpass(printable(f"Password for {user}@{target.url}: "))
    config = Config.load()
    if config.problem:
        say(f"xstui: {config.problem}; settings are not saved", file=sys.stderr)
    if pin:
        config.fingerprints[target.trust_key] = pin
    while True:
        conn = Connection(
            target,
            user,
            password,
            fingerprints=config.fingerprints,
            watch=watched_types(),
            timeout=timeout,
        )
        try:
            conn.login()
        except ConnectError as err:
            if err.kind == "trust" and not err.pinned and sys.stdin.isatty():
                say(str(err), file=sys.stderr)
                say("Trust this certificate? [y/N] ", file=sys.stderr, end="")
                if sys.stdin.readline().strip().lower() == "y":
                    config.fingerprints[err.target.trust_key] = err.fingerprint
                    if not config.save():
                        say(f"xstui: the pin is not remembered: {config.problem}", file=sys.stderr)
                    continue  # the password is not asked again
            hint = " (pass --fingerprint SHA256 to trust it)" if err.kind == "trust" else ""
            if demo:
                demo.close()
            raise SystemExit(fail(str(err).splitlines()[0] + hint, EXIT_CONNECT)) from None
        if pin and not config.save():
            say(f"xstui: the pin is not remembered: {config.problem}", file=sys.stderr)
        return conn, demo


def with_pool(args: argparse.Namespace, compute):
    """Log in, load the pool with one event.from, compute, log out. Connection
    and API failures exit 3 with one line."""
    from .xapi.connection import ConnectionLost, XapiFailure

    if not 0 < args.timeout <= 3600:
        raise SystemExit(fail("--timeout must be between 0 and 3600 seconds"))
    conn, demo = login_for_script(args.target, args.user, args.fingerprint, args.timeout)
    try:
        conn.load_once()
        return compute(conn)
    except (XapiFailure, ConnectionLost) as exc:
        raise SystemExit(fail(str(exc), EXIT_CONNECT)) from None
    finally:
        conn.close()
        if demo:
            demo.close()


@contextlib.contextmanager
def live_pool(args: argparse.Namespace) -> Iterator:
    """Log in and follow the pool's event stream (actions wait for their
    tasks through it) until the block ends: the connection. Exits 3 when the
    pool's objects do not arrive within --timeout."""
    if not 0 < args.timeout <= 3600:
        raise SystemExit(fail("--timeout must be between 0 and 3600 seconds"))
    conn, demo = login_for_script(args.target, args.user, args.fingerprint, args.timeout)
    try:
        conn.start_events()
        if not conn.cache.wait_for(lambda: conn.cache.loads > 0, args.timeout):
            raise SystemExit(fail("the pool's objects did not arrive", EXIT_CONNECT))
        yield conn
    finally:
        conn.close()
        if demo:
            demo.close()


def action_arguments(parser: argparse.ArgumentParser) -> None:
    """--yes and --dry-run: what a command that changes something takes."""
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan and the equivalent xe commands; change nothing",
    )


def dry_run(plan, as_json: bool) -> int:
    """The plan, its impact and the xe equivalents; nothing is called."""
    if as_json:
        print(
            json.dumps(
                {
                    "dry_run": True,
                    "summary": plan.summary,
                    "impact": list(plan.impact),
                    "xe": list(plan.xe),
                },
                indent=2,
            )
        )
        return 0
    say(f"{plan.title} (dry run: nothing is changed): {plan.summary}")
    for line in plan.impact:
        say(f"  - {line}")
    say("The same with xe:")
    for line in plan.xe:
        say(f"  {line}")
    return 0


def confirmed(plan, yes: bool, out) -> int | None:
    """The plan said on ``out``, then the admin's go-ahead: None to go on,
    else the exit code (refused without a terminal unless --yes: a cron job
    must say so). A high-risk plan asks for its confirm word, others for y."""
    say(f"{plan.title}: {plan.summary}", file=out)
    for line in plan.impact:
        say(f"  - {line}", file=out)
    say("The same with xe:", file=out)
    for line in plan.xe:
        say(f"  {line}", file=out)
    if yes:
        return None
    if not sys.stdin.isatty():
        return fail("not confirmed: pass --yes to run without a terminal")
    # the question to the terminal, never to stdout (it may be piped)
    if plan.confirm_word:
        say(f"Type {plan.confirm_word!r} to go on: ", file=sys.stderr, end="")
        answer, wanted = sys.stdin.readline().strip(), plan.confirm_word
    else:
        say("Go on? [y/N] ", file=sys.stderr, end="")
        answer, wanted = sys.stdin.readline().strip().lower(), "y"
    if answer != wanted:
        return fail("not confirmed; nothing was done", EXIT_FAILED)
    return None
