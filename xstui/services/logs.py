"""Logs (RECIPES.md section 8): in dom0, the host's key logs read from their
end (follow, search, jump to the next error), what fills ``/var/log``, and
the log-rotation profile written to ``/etc/logrotate.conf`` only after its
diff is shown (the old file kept beside it); anywhere, the pool's alerts
(XAPI messages) with severity, object and time, dismissed one by one."""

from __future__ import annotations

import difflib
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ..files import write_atomic
from ..xapi import views
from ..xapi.cache import Cache
from .actions import Action, InvalidInput, Plan, RunContext
from .health import alert_severity
from .host.local import LOG_DIR, LocalError, LocalSystem
from .values import moment

LOGS = ("xensource.log", "SMlog", "xha.log", "audit.log", "daemon.log", "messages")
ERROR_RE = re.compile(r"\b(error|errors|fail(ed|ure)?|exception|fatal|critical)\b", re.I)
TAIL_BYTES = 1 << 20  # what the viewer reads from a log's end
LOGROTATE = "etc/logrotate.conf"
# the profile of RECIPES section 8, as global directives of logrotate.conf: daily,
# or sooner past 20M (``maxsize``; ``size`` would override the interval)
PROFILE = {
    "frequency": "daily",
    "rotate": "rotate 7",
    "compress": "compress",
    "maxsize": "maxsize 20M",
}
# logrotate before 3.8.1 (XenServer 6.x's dom0) has no maxsize: there the
# profile rotates by size alone (``size``, which ignores any interval)
MAXSIZE_SINCE = (3, 8, 1)
SIZE_ONLY = {"rotate": "rotate 7", "compress": "compress", "size": "size 20M"}
FREQUENCIES = ("daily", "weekly", "monthly", "yearly")
PROFILE_MARK = "# xstui log-rotation profile"


def log_names(system: LocalSystem) -> list[str]:
    """The key logs this host has."""
    return [n for n in LOGS if system.path(f"{LOG_DIR}/{n}").is_file()]


def tail(system: LocalSystem, name: str, limit: int = TAIL_BYTES) -> list[str]:
    """The log's last lines (at most ``limit`` bytes of them), oldest first."""
    path = system.path(f"{LOG_DIR}/{name}")
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            f.seek(max(0, end - limit))
            data = f.read()
    except OSError as exc:
        raise InvalidInput([f"cannot read {path}: {exc.strerror or exc}"]) from None
    lines = data.decode(errors="replace").splitlines()
    return lines[1:] if end > limit and lines else lines  # the first may be cut


def find(lines: list[str], pattern: str, start: int, *, errors: bool = False) -> int | None:
    """The index of the next line from ``start`` (wrapping) that holds
    ``pattern`` (case-insensitive text), or an error when ``errors``."""
    if not lines:
        return None
    needle = pattern.lower()
    for step in range(1, len(lines) + 1):
        i = (start + step) % len(lines)
        line = lines[i]
        if ERROR_RE.search(line) if errors else needle and needle in line.lower():
            return i
    return None


@dataclass(frozen=True)
class Usage:
    total: int
    biggest: list[tuple[str, int]]  # (path under /var/log, bytes), largest first
    free: int | None


def usage(system: LocalSystem, top: int = 8) -> Usage:
    files = sorted(system.files(LOG_DIR), key=lambda f: -f[1])
    try:
        free: int | None = system.space(LOG_DIR).free
    except LocalError:
        free = None
    return Usage(sum(s for _, s in files), files[:top], free)


def with_profile(text: str, maxsize: bool = True) -> str:
    """logrotate.conf with the profile's global directives (before the first
    block or include): frequency, rotate, compress, maxsize replaced or added
    (a global ``size``, which would override the frequency, is dropped).
    Without ``maxsize`` (logrotate before 3.8.1): rotate, compress and
    ``size``, no frequency (size ignores it)."""
    lines = text.splitlines()
    top = next(
        (i for i, line in enumerate(lines) if "{" in line or line.strip().startswith("include")),
        len(lines),
    )
    head, rest = lines[:top], lines[top:]
    kept = [
        line
        for line in head
        if not (
            line.strip() in FREQUENCIES
            or re.match(r"\s*(rotate|size|maxsize)\s+\S+", line)
            or line.strip() in ("compress", "nocompress", PROFILE_MARK)
        )
    ]
    profile = [PROFILE_MARK, *(PROFILE if maxsize else SIZE_ONLY).values()]
    return "\n".join([*profile, *kept, *rest]) + "\n"


class ApplyLogProfile(Action):
    """Write the rotation profile, once its diff has been shown (the plan)."""

    def __init__(self, system: LocalSystem):
        self.system, self.path = system, system.path(LOGROTATE)
        try:
            self.old = self.path.read_text()
        except OSError as exc:
            raise InvalidInput([f"cannot read {self.path}: {exc.strerror or exc}"]) from None
        self.version = system.logrotate_version()
        self.maxsize = self.version is not None and self.version >= MAXSIZE_SINCE
        self.new = with_profile(self.old, self.maxsize)
        if self.new == self.old:
            raise InvalidInput(["logrotate.conf has the profile already"])
        self.backup = self.path.with_name(self.path.name + time.strftime(".%Y%m%d-%H%M%S"))

    def diff(self) -> list[str]:
        return [
            line.rstrip("\n")
            for line in difflib.unified_diff(
                self.old.splitlines(), self.new.splitlines(), "before", "after", lineterm=""
            )
        ]

    def plan(self) -> Plan:
        if self.maxsize:
            title = "Log rotation: daily, 7 kept, compressed, at most 20M"
            impact = [
                "logs rotate daily, or sooner once over 20M; 7 compressed generations are kept"
            ]
        else:
            why = (
                f"this logrotate ({'.'.join(map(str, self.version))}) has no maxsize "
                "(3.8.1 added it)"
                if self.version
                else "logrotate did not say its version: size, which every version has"
            )
            title = "Log rotation: past 20M, 7 kept, compressed"
            impact = [
                f"{why}: logs rotate when the daily run finds them over 20M, not every day; "
                "7 compressed generations are kept"
            ]
        return Plan(
            title=title,
            summary=f"{self.path} gets the profile's global directives; the old file is kept "
            f"as {self.backup.name}. The diff:",
            xe=[f"cp -p /{LOGROTATE} /{LOGROTATE}{self.backup.suffix}", *self.diff()],
            impact=impact,
        )

    def run(self, ctx: RunContext) -> str:
        mode = self.path.stat().st_mode & 0o777
        write_atomic(self.backup, self.old, mode, exclusive=True)
        write_atomic(self.path, self.new, mode)
        ctx.on_undo(
            "put the old logrotate.conf back", lambda: write_atomic(self.path, self.old, mode)
        )
        return f"Profile written; the old file is {self.backup}."


# alerts --------------------------------------------------------------------------
NEVER = datetime.fromtimestamp(0, timezone.utc)


@dataclass(frozen=True)
class Alert:
    ref: str
    when: str
    severity: str
    name: str
    about: str
    body: str


def _said(message) -> str:
    """A message's body; perfmon's ALARM said in words first."""
    if message.name != "ALARM":
        return message.body
    from .metrics.perfmon import alarm_words

    words = alarm_words(message.cls, message.body)
    return f"{words}.\n{message.body}" if words else message.body


def alerts(cache: Cache) -> list[Alert]:
    """The pool's messages, newest first, with the object they are about."""
    with cache.lock:
        by_uuid = {}
        for cls in ("host", "sr", "vm", "pool", "vmss"):  # what the pool's alerts are about
            for rec in cache.table(cls).values():
                by_uuid[rec.uuid] = getattr(rec, "name_label", "") or cls
        rows = [
            Alert(
                m.ref,
                moment(m.timestamp),
                alert_severity(m.priority),
                m.name,
                f"{m.cls} {by_uuid.get(m.obj_uuid, m.obj_uuid[:8])}",
                _said(m),
            )
            for m in sorted(
                cache.table("message").values(), key=lambda m: m.timestamp or NEVER, reverse=True
            )
        ]
    return rows


def mail_words(cache: Cache) -> tuple[str, bool]:
    """Where the pool mails its alerts (its other_config, as XAPI's mail-alarm
    reads it), in words, and whether any go."""
    from .metrics.mail import MailConfig

    with cache.lock:
        pool = views.pool(cache)
        config = MailConfig.of(dict(pool.other_config) if pool is not None else {})
    return config.words, bool(config.destination)


class AlarmWatch:
    """perfmon's ALARM messages that arrive while the console runs (those of
    its first read of the pool are known already): what to tell the admin."""

    def __init__(self) -> None:
        self.seen: set[str] | None = None

    def arrived(self, cache: Cache) -> list[str]:
        """Each new ALARM in words: "VM web-01: CPU usage 97 % above the alarm's 90 %"."""
        from .metrics.perfmon import alarm_words

        with cache.lock:
            now = {ref for ref, m in cache.table("message").items() if m.name == "ALARM"}
        new, self.seen = (set() if self.seen is None else now - self.seen), now
        return [
            f"{a.about}: {alarm_words(m.cls, m.body) or 'ALARM'}"
            for a in alerts(cache)
            if a.ref in new and (m := cache.get("message", a.ref)) is not None
        ]


class DismissAlert(Action):
    calls = ("message.destroy",)

    def __init__(self, cache: Cache, ref: str):
        alert = next((a for a in alerts(cache) if a.ref == ref), None)
        if alert is None:
            raise InvalidInput(["choose an alert in the list"])
        self.alert = alert
        self.uuid = getattr(cache.get("message", ref), "uuid", ref)

    def plan(self) -> Plan:
        a = self.alert
        return Plan(
            title=f"Dismiss {a.name}",
            summary=f"The alert about {a.about} ({a.when}) is removed for every client.",
            xe=[f"xe message-destroy uuid={self.uuid}"],
        )

    def run(self, ctx: RunContext) -> str:
        ctx.call("message.destroy", self.alert.ref)
        return f"{self.alert.name} dismissed."
