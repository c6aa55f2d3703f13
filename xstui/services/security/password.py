"""The root password: changed pool-wide (``session.change_password``) once
the current one is checked, the new one typed twice, none shown, logged or
audited (the audit line says "root password changed", nothing more); and,
when it is lost, the way back for the host's own bootloader, step by step,
as typed at the iLO/DRAC console.

XAPI does not check the old password itself: ``change_password`` in
ocaml/xapi/xapi_session.ml starts with ``ignore old_pwd`` (CA-13567: a root
session is trusted), and ``login_with_password`` over dom0's unix socket
authenticates nobody. So, as xsconsole does (PAM, before the change), the
console checks it first: over the network with a login as root at the master
(SESSION_AUTHENTICATION_FAILED when wrong), in dom0 against /etc/shadow."""

from __future__ import annotations

import string
from dataclasses import dataclass

from ...areas import see
from ...files import write_atomic
from ...xapi.cache import Cache
from ...xapi.config import safe_stem, state_dir
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import HERE, Field, problem_of
from ..host.local import LocalSystem

NOT_RIGHT = "the current password is not right: nothing was changed"
MIN_LENGTH = 8  # below this XAPI's own check (CHANGE_PASSWORD_REJECTED) is likely
GOOD_LENGTH = 14


def strength_hints(password: str) -> list[str]:
    """What would make the password stronger (advice, not refusals)."""
    hints = []
    if len(password) < GOOD_LENGTH:
        hints.append(f"{GOOD_LENGTH} characters or more")
    classes = sum(
        any(c in group for c in password)
        for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    ) + any(not c.isalnum() for c in password)
    if classes < 3:
        hints.append("a mix of lower and upper case, digits and symbols")
    return hints


def check_new_password(new: str, again: str) -> None:
    problems = []
    if not new:
        problems.append("the new password is empty")
    elif len(new) < MIN_LENGTH:
        problems.append(f"the new password has fewer than {MIN_LENGTH} characters")
    if new != again:
        problems.append("the two passwords differ")
    if problems:
        raise InvalidInput(problems)


def shadow_matches(system: LocalSystem, password: str) -> bool | None:
    """Whether ``password`` is root's in dom0's /etc/shadow (what PAM checks
    for xsconsole); None when this Python cannot check its hash."""
    try:
        import crypt  # the platform's crypt(3): the hashes of /etc/shadow
    except ImportError:
        return None
    line = next((x for x in system.read("etc/shadow").splitlines() if x.startswith("root:")), "")
    stored = line.split(":")[1] if line else ""
    if not stored.startswith("$"):
        return False  # locked ("!", "*"), or no password: none typed is it
    return crypt.crypt(password, stored) == stored


def check_current_password(conn, current: str, system: LocalSystem | None = None) -> None:
    """InvalidInput (NOT_RIGHT) unless ``current`` is root's password: a login
    as root at the master, or in dom0 (whose socket trusts every login) the
    shadow file. The check's own session is closed at once."""
    import XenAPI

    if conn.target.kind == "local":
        matches = shadow_matches(system or LocalSystem(), current)
        if matches is None:
            raise InvalidInput(
                ["the current password cannot be checked here: change it with passwd in dom0"]
            )
        if not matches:
            raise InvalidInput([NOT_RIGHT])
        return
    try:
        proxy = conn.session_on(conn.target.host, password=current)
    except XenAPI.Failure as f:
        if f.details and f.details[0] == "SESSION_AUTHENTICATION_FAILED":
            raise InvalidInput([NOT_RIGHT]) from None
        raise
    proxy.xenapi.session.logout()


class ChangeRootPassword(Action):
    """The pool's root password, changed once the current one is checked."""

    calls = ("session.change_password",)
    FIELDS = [
        Field("current", "Current root password", "", password=True),
        Field("new", "New root password", "", password=True),
        Field("again", "Type it again", "", password=True),
    ]

    def __init__(
        self, cache: Cache, current: str, new: str, again: str, system: LocalSystem | None = None
    ):
        if not current:
            raise InvalidInput(["give the current root password"])
        check_new_password(new, again)
        self._current, self._new = current, new  # kept out of repr, plan, outcome and audit
        self.system = system
        self.hints = strength_hints(new)
        with cache.lock:
            self.hosts = len(cache.table("host"))

    def __repr__(self) -> str:
        return "ChangeRootPassword(<hidden>)"

    def precheck(self, conn) -> None:
        """The current password checked before the plan (XAPI does not)."""
        check_current_password(conn, self._current, self.system)

    def plan(self) -> Plan:
        impact = [
            f"The root password of all {self.hosts} host(s) of the pool changes (SSH, console, API).",
            "Scripts and tools that log in as root need the new password.",
        ]
        if self.hints:
            impact.append("Stronger with: " + "; ".join(self.hints) + ".")
        return Plan(
            "Change the root password",
            "Change the pool's root password (the current one was checked).",
            ["xe user-password-change old=<hidden> new=<hidden>"],
            impact=impact,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.call("session.change_password", self._current, self._new)
        ctx.conn.password_changed(self._new)  # the next login (a reconnect) uses it
        return "Root password changed."


@dataclass(frozen=True)
class Guide:
    title: str
    bootloader: str  # "extlinux" or "GRUB2"
    firmware: str  # "UEFI", "BIOS" or "UEFI or BIOS"
    steps: list[str]
    donts: list[str]


def recovery_guide(cache: Cache, host: str) -> Guide:
    """The steps for this host's bootloader and firmware, as far as the API
    tells (6.x: extlinux, BIOS; 7.x and later: GRUB2; secure boot: UEFI)."""
    rec = cache.get("host", host)
    version = rec.software_version.get("product_version", "") if rec else ""
    brand = rec.software_version.get("product_brand", "XenServer") if rec else "XenServer"
    name = rec.name_label if rec else "the host"
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 8
    if major < 7:  # extlinux: XenServer 6.x boots the host by BIOS only
        firmware = "BIOS"
    elif rec is not None and (rec.secure_boot or rec.uefi_certificates):
        firmware = "UEFI"
    else:
        firmware = "UEFI or BIOS"
    first = [
        "If a pool-admin session is still open anywhere (this console, XenCenter, Xen "
        "Orchestra, an SSH session as root): change the password from there instead, "
        f"in {see('security', 'w')}: nothing below is needed.",
        f"Open the iLO/DRAC virtual console of {name}; evacuate or shut down its VMs if you "
        "still can (the host reboots twice).",
        "Reboot the host (the BMC's power-cycle if nothing else answers) and watch the console.",
    ]
    if major < 7:
        bootloader = "extlinux"
        steps = first + [
            "At the `boot:` prompt, type `menu.c32` and press Enter.",
            "Select the `xe` entry and press Tab to edit its line.",
            "Replace `quiet vga=785 splash` with `linux single` and press Enter to boot.",
            "At the root prompt, type `passwd` and set the new password twice.",
            "Type `reboot` and let the host start normally; log in with the new password.",
        ]
    else:
        bootloader = "GRUB2"
        steps = first + [
            f"When the GRUB menu appears, press an arrow key to stop the countdown; keep the "
            f"default {brand} entry highlighted and press `e` to edit it.",
            "Go down to the line that starts with `module2 /boot/vmlinuz` (the dom0 kernel, not "
            "the `multiboot2 /boot/xen.gz` line) and go to its end (End key).",
            "Type a space and `single`, then press Ctrl+X (or F10) to boot. If the web "
            "console swallows Ctrl+X, send it with the console's keyboard macros.",
            "At the root prompt, type `passwd` and set the new password twice.",
            "Type `sync`, then `reboot`, and let the host start normally; log in with the new "
            "password.",
        ]
    donts = [
        "Do not use `init=/bin/bash` unless `single` fails: then the root filesystem is "
        "read-only: `mount -o remount,rw /` before `passwd`, and `sync` then `reboot -f` "
        "afterwards, or the change is lost.",
        "Do not edit the `multiboot2 /boot/xen.gz` line: Xen's options are not dom0's.",
        "Do not reinstall or 'upgrade' from the installer to get a new password: it can "
        "overwrite the local storage.",
        "On a pool member this changes that host only; change it pool-wide afterwards "
        f"from the master, in {see('security', 'w')}, so that every host has the same "
        "password.",
    ]
    return Guide(
        f"Lost root password: {name} ({brand} {version}, {bootloader}, {firmware})",
        bootloader,
        firmware,
        steps,
        donts,
    )


def guide_text(guide: Guide) -> str:
    """The printable version."""
    lines = [guide.title, "=" * len(guide.title), ""]
    lines += [f"{i}. {step}" for i, step in enumerate(guide.steps, 1)]
    lines += ["", "Do not:"]
    lines += [f"- {d}" for d in guide.donts]
    return "\n".join(lines) + "\n"


class SaveGuide(Action):
    """The recovery guide as a text file to print, on this machine: nothing
    is asked of the pool. The path is asked, a file there kept unless the
    admin says to overwrite it."""

    calls = ()
    needs_connection = False
    OVERWRITE = ("keep it", "overwrite")

    @staticmethod
    def fields(name: str) -> list[Field]:
        path = state_dir() / f"root-password-recovery-{safe_stem(name)}.txt"
        return [
            Field(
                "path",
                f"Save to ({HERE})",
                str(path),
                problem_of(lambda text: v.file_to_save(text, made_in=state_dir())),
            ),
            Field(
                "overwrite",
                "If the file exists",
                SaveGuide.OVERWRITE[0],
                choices=SaveGuide.OVERWRITE,
            ),
        ]

    def __init__(self, guide: Guide, name: str, path: str, overwrite: str = OVERWRITE[0]):
        self.guide, self.name = guide, name
        self.path = v.file_to_save(
            path,
            overwrite == self.OVERWRITE[1],
            instead="choose another name, or overwrite it (If the file exists)",
            made_in=state_dir(),
        )
        self.replaces = self.path.exists()

    def __repr__(self) -> str:
        return f"SaveGuide({self.name})"

    def plan(self) -> Plan:
        missing = v.missing_folders(self.path.parent)
        return Plan(
            "Save the recovery guide",
            f"The root password recovery guide of {self.name} ({self.guide.bootloader}, "
            f"{self.guide.firmware}) is written to {self.path} on {HERE}"
            + (", replacing the file there." if self.replaces else "."),
            [],
            steps=[f"make the folder {missing[-1]} (yours only, 0700)"] if missing else [],
            impact=["nothing changes on the pool"],
        )

    def run(self, ctx: RunContext) -> str:
        try:
            write_atomic(self.path, guide_text(self.guide))
        except OSError as exc:
            raise InvalidInput([f"{self.path} cannot be written: {exc.strerror or exc}"]) from None
        return f"Recovery guide of {self.name} saved to {self.path}"
