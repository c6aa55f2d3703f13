"""The root password: changed pool-wide over real HTTP once the current one
is checked (XAPI does not check it: xapi_session.ml change_password ignores
old_pwd), the old one refused afterwards, the console's own reconnects using
the new one, and no password written anywhere (audit log, log file,
configuration); the lost-password guide for each bootloader."""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import XenAPI

from tests.waiting import wait_for
from xstui.services import security as sec
from xstui.services.actions import InvalidInput, RunContext
from xstui.xapi.cache import Cache

NEW = "Tr0ub4dor&3-staple"


def written_files() -> list[Path]:
    return [
        p
        for root in (os.environ["XDG_STATE_HOME"], os.environ["XDG_CONFIG_HOME"])
        for p in Path(root).rglob("*")
        if p.is_file()
    ]


def test_change_the_root_password(running_sim, connection, tmp_path, caplog):
    connection.start_events()
    wait_for(lambda: connection.cache.table("host"))
    old = running_sim.password
    action = sec.ChangeRootPassword(connection.cache, old, NEW, NEW)
    assert NEW not in repr(action) + str(action.plan()) and old not in repr(action)
    sessions = len(running_sim.sim.store.table("session"))
    action.precheck(connection)
    assert len(running_sim.sim.store.table("session")) == sessions  # the check's session closed
    assert action.execute(RunContext(connection)) == "Root password changed."
    with pytest.raises(XenAPI.Failure) as refused:
        XenAPI.Session(running_sim.url).xenapi.login_with_password("root", old)
    assert refused.value.details[0] == "SESSION_AUTHENTICATION_FAILED"
    XenAPI.Session(running_sim.url).xenapi.login_with_password("root", NEW)
    connection.login()  # a reconnect logs in with the new password
    written = written_files()
    assert any(p.name == "audit.log" for p in written)
    for p in written:
        assert NEW not in p.read_text(errors="replace"), p
        assert old not in p.read_text(errors="replace"), p
    assert not [r for r in caplog.records if NEW in r.getMessage() or old in r.getMessage()]
    assert (
        "root password changed"
        in (Path(os.environ["XDG_STATE_HOME"]) / "xstui/audit.log").read_text().lower()
    )


@pytest.mark.parametrize(
    "new, again, why",
    [
        ("", "", "empty"),
        ("short1!", "short1!", "fewer than 8"),
        ("Long-enough-1", "Long-enough-2", "differ"),
    ],
)
def test_bad_passwords_are_refused_before_any_call(running_sim, connection, new, again, why):
    generation = running_sim.sim.store.generation
    with pytest.raises(InvalidInput) as refused:
        sec.ChangeRootPassword(connection.cache, running_sim.password, new, again)
    assert why in "; ".join(refused.value.problems)
    assert running_sim.sim.store.generation == generation


def test_a_wrong_current_password_changes_nothing(running_sim, connection, caplog):
    old, wrong = running_sim.password, "Not-the-r00t-one"
    action = sec.ChangeRootPassword(connection.cache, wrong, NEW, NEW)
    generation = running_sim.sim.store.generation
    with pytest.raises(InvalidInput, match="the current password is not right"):
        action.precheck(connection)
    assert running_sim.sim.password == old and running_sim.sim.store.generation == generation
    assert not [r for r in caplog.records if wrong in r.getMessage()]
    for p in written_files():
        assert wrong not in p.read_text(errors="replace"), p
    with pytest.raises(InvalidInput, match="give the current root password"):
        sec.ChangeRootPassword(connection.cache, "", NEW, NEW)


def test_xapi_itself_ignores_the_old_password(xapi, running_sim):
    """xapi_session.ml change_password: ``ignore old_pwd`` (CA-13567); the
    simulator likewise, which is why the console checks it first."""
    xapi.xenapi.session.change_password("anything at all", NEW)
    assert running_sim.sim.password == NEW


def test_in_dom0_the_shadow_file_is_checked(tmp_path):
    import crypt

    from xstui.services.host.local import LocalSystem

    (tmp_path / "etc").mkdir()
    shadow = tmp_path / "etc/shadow"
    conn = SimpleNamespace(target=SimpleNamespace(kind="local"))  # the socket trusts any login
    system = LocalSystem(tmp_path)
    stored = crypt.crypt("S3cret-dom0", crypt.mksalt(crypt.METHOD_SHA512))
    shadow.write_text(f"bin:*:19000::::::\nroot:{stored}:19000:0:99999:7:::\n")
    sec.ChangeRootPassword(Cache(), "S3cret-dom0", NEW, NEW, system).precheck(conn)
    for wrong, text in (("Wrong-dom0", stored), ("S3cret-dom0", "!")):
        shadow.write_text(f"root:{text}:19000:0:99999:7:::\n")
        with pytest.raises(InvalidInput, match="the current password is not right"):
            sec.ChangeRootPassword(Cache(), wrong, NEW, NEW, system).precheck(conn)


def test_strength_hints():
    assert sec.strength_hints("aaaaaaaa") == [
        "14 characters or more",
        "a mix of lower and upper case, digits and symbols",
    ]
    assert sec.strength_hints("Correct-Horse-7-Battery") == []


def test_the_guide_follows_the_bootloader(running_sim, connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("host"))
    host = connection.this_host
    grub = sec.recovery_guide(connection.cache, host)
    assert grub.bootloader == "GRUB2" and any("module2 /boot/vmlinuz" in s for s in grub.steps)
    assert any("init=/bin/bash" in d and "remount,rw" in d for d in grub.donts)
    st = running_sim.sim.store
    old = st.get("host", host)["software_version"]
    st.set("host", host, software_version={**old, "product_version": "6.5.0"})
    wait_for(lambda: sec.recovery_guide(connection.cache, host).bootloader == "extlinux")
    legacy = sec.recovery_guide(connection.cache, host)
    assert any("menu.c32" in s for s in legacy.steps)
    assert any("`linux single`" in s for s in legacy.steps)
    text = sec.guide_text(legacy)
    assert text.startswith("Lost root password") and "Do not:" in text
