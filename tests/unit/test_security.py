"""The root password: changed pool-wide over real HTTP, the old one refused
afterwards, the console's own reconnects using the new one, and the password
written nowhere (audit log, log file, configuration); the lost-password guide
for each bootloader."""

import os
from pathlib import Path

import pytest
import XenAPI

from tests.waiting import wait_for
from xstui.services import security as sec
from xstui.services.actions import InvalidInput, RunContext

NEW = "Tr0ub4dor&3-staple"


def test_change_the_root_password(running_sim, connection, tmp_path):
    connection.start_events()
    wait_for(lambda: connection.cache.table("host"))
    old = running_sim.password
    action = sec.ChangeRootPassword(connection.cache, NEW, NEW)
    assert NEW not in repr(action) and NEW not in str(action.plan())
    assert action.execute(RunContext(connection)) == "Root password changed."
    with pytest.raises(XenAPI.Failure) as refused:
        XenAPI.Session(running_sim.url).xenapi.login_with_password("root", old)
    assert refused.value.details[0] == "SESSION_AUTHENTICATION_FAILED"
    XenAPI.Session(running_sim.url).xenapi.login_with_password("root", NEW)
    connection.login()  # a reconnect logs in with the new password
    written = [
        p
        for root in (os.environ["XDG_STATE_HOME"], os.environ["XDG_CONFIG_HOME"])
        for p in Path(root).rglob("*")
        if p.is_file()
    ]
    assert any(p.name == "audit.log" for p in written)
    for p in written:
        assert NEW not in p.read_text(errors="replace"), p
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
        sec.ChangeRootPassword(connection.cache, new, again)
    assert why in "; ".join(refused.value.problems)
    assert running_sim.sim.store.generation == generation


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
