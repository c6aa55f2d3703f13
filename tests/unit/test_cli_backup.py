"""``xstui backup`` and ``xstui restore`` over real HTTP against the
simulator, as a cron job runs them: a VM backed up to a file, destroyed, and
brought back the same (name, UUID, memory, disks, VIFs); a running VM's copy
beside it; the pool database; bad inputs each refused in one line with its
exit code, changing nothing; on a terminal, the question and the progress in
bytes; Ctrl-C undoing what was done."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading

from tests.unit.test_vm_import import counts, rewritten
from tests.waiting import wait_for


def cli(running_sim, *args, stdin=subprocess.DEVNULL, timeout=120, **kw):
    return subprocess.run(
        [sys.executable, "-m", "xstui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "XSTUI_PASSWORD": running_sim.password},
        stdin=stdin,
        **kw,
    )


def refused(out, code: int, *words: str) -> str:
    """One line on stderr, with these words, this exit code, no traceback."""
    err = out.stderr
    assert out.returncode == code, (out.returncode, out.stdout, err)
    assert err.startswith("xstui: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)
    return err


def picture(x, vm: str) -> dict:
    """What a restore must bring back, read over the API."""
    rec = x.VM.get_record(vm)
    vifs = sorted(
        (r["device"], r["MAC"], x.network.get_name_label(r["network"]))
        for r in map(x.VIF.get_record, rec["VIFs"])
    )
    disks = []
    for vbd in map(x.VBD.get_record, rec["VBDs"]):
        if vbd["type"] == "Disk":
            vdi = x.VDI.get_record(vbd["VDI"])
            disks.append(
                (
                    vbd["userdevice"],
                    vdi["name_label"],
                    vdi["virtual_size"],
                    x.SR.get_name_label(vdi["SR"]),
                )
            )
    return {
        "name": rec["name_label"],
        "uuid": rec["uuid"],
        "power": rec["power_state"],
        "memory": [
            rec[f] for f in ("memory_static_min", "memory_static_max", "memory_dynamic_max")
        ],
        "vcpus": rec["VCPUs_max"],
        "vifs": vifs,
        "disks": sorted(disks),
    }


def destroy(x, vm: str) -> None:
    """The VM goes, with its disks."""
    vdis = [x.VBD.get_VDI(b) for b in x.VM.get_VBDs(vm) if x.VBD.get_type(b) == "Disk"]
    x.VM.destroy(vm)
    for vdi in vdis:
        x.VDI.destroy(vdi)


def test_backed_up_destroyed_and_restored_it_comes_back_the_same(running_sim, xapi, tmp_path):
    x, url = xapi.xenapi, running_sim.url
    (vm,) = x.VM.get_by_name_label("test-ubuntu-24")
    before = picture(x, vm)
    path = tmp_path / "ubuntu.xva"
    out = cli(
        running_sim, "backup", url, "vm", "test-ubuntu-24", "--to", str(path), "--yes", "--json"
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)  # the result alone on stdout, the plan on stderr
    assert doc["done"] and doc["file"] == str(path) and doc["bytes"] == path.stat().st_size
    assert doc["checked"] and doc["disks"] == 1 and doc["blocks"] > 0
    assert f"xe vm-export uuid={before['uuid']} filename={path}" in out.stderr
    # its UUID is in the pool: a restore is refused, nothing changes
    out = cli(running_sim, "restore", url, str(path), "--restore", "--yes")
    refused(out, 2, "a VM with its UUID is in the pool already")
    destroy(x, vm)
    gone = counts(running_sim.sim.store)
    out = cli(running_sim, "restore", url, str(path), "--restore", "--yes")
    assert out.returncode == 0, out.stderr
    assert "preserve=true" in out.stdout  # the plan's xe equivalent, then the outcome
    outcome = out.stdout.splitlines()[-1]
    assert outcome.startswith("Imported with its UUID and MACs, halted: test-ubuntu-24"), outcome
    assert f"uuid {before['uuid']}" in outcome and "block(s) checked" in outcome
    (back,) = x.VM.get_by_name_label("test-ubuntu-24")
    assert picture(x, back) == before  # on the pool's default SR, NFS VM store, as it was
    assert counts(running_sim.sim.store) != gone
    audit = (tmp_path / "state" / "xstui" / "audit.log").read_text().splitlines()
    assert [json.loads(line)["action"] for line in audit][-1] == "Import test-ubuntu-24"


def test_a_running_vm_is_copied_beside_itself(running_sim, xapi, tmp_path):
    x, url, st = xapi.xenapi, running_sim.url, running_sim.sim.store
    (vm,) = x.VM.get_by_name_label("web-01")
    macs = {x.VIF.get_MAC(v) for v in x.VM.get_VIFs(vm)}
    path = tmp_path / "web.xva"
    out = cli(running_sim, "backup", url, "vm", "web-01", "--to", str(path), "--yes")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == (
        f"web-01 saved to {path} ({path.stat().st_size / (1 << 20):.0f} MiB, 1 disk(s), "
        "checked); the snapshot is gone."
    )
    assert x.VM.get_snapshots(vm) == [] and x.VM.get_power_state(vm) == "Running"
    # its MACs are in use: kept, they would clash
    before = counts(st)
    out = cli(running_sim, "restore", url, str(path), "--restore", "--yes")
    refused(out, 2, "its MACs are in use", "web-01")
    assert counts(st) == before
    out = cli(
        running_sim, "restore", url, str(path), "--sr", "Local storage on xcp-c", "--yes", "--json"
    )
    assert out.returncode == 0, out.stderr
    (copy,) = json.loads(out.stdout)["vms"]
    # the file holds the snapshot the backup exported: the copy bears its name
    assert copy["name"].startswith("web-01 backup ") and copy["power_state"] == "Halted"
    new = x.VM.get_by_uuid(copy["uuid"])
    assert new != vm and not macs & {x.VIF.get_MAC(v) for v in x.VM.get_VIFs(new)}
    (vbd,) = [b for b in x.VM.get_VBDs(new) if x.VBD.get_type(b) == "Disk"]
    sr = x.VDI.get_SR(x.VBD.get_VDI(vbd))
    assert x.SR.get_name_label(sr) == "Local storage" and not x.SR.get_shared(sr)


def test_the_pool_database_and_a_dry_run(running_sim, tmp_path):
    url, st = running_sim.url, running_sim.sim.store
    out = cli(running_sim, "backup", url, "pool-db", "--to", str(tmp_path / "pool.db"), "--yes")
    assert out.returncode == 0, out.stderr
    assert (
        out.stdout.splitlines()[-1].startswith("Saved ")
        and "<database" in (tmp_path / "pool.db").read_text()
    )
    before = counts(st)
    out = cli(running_sim, "backup", url, "vm", "dc-01", "--dry-run")  # default: the backup folder
    assert out.returncode == 0, out.stderr
    assert "(dry run: nothing is changed)" in out.stdout and "xe vm-snapshot uuid=" in out.stdout
    assert "/backups/dc-01-" in out.stdout and not (tmp_path / "backups").exists()
    assert counts(st) == before


def test_bad_backups_are_refused_in_one_line_changing_nothing(running_sim, xapi, tmp_path):
    x, url, st = xapi.xenapi, running_sim.url, running_sim.sim.store
    (web2,) = x.VM.get_by_name_label("web-02")
    x.VM.set_name_label(web2, "web-03")
    taken = tmp_path / "taken.xva"
    taken.write_text("mine")
    before = counts(st)
    to = ["--to", str(tmp_path / "new.xva"), "--yes"]
    refused(cli(running_sim, "backup", url, "vm", "nope", *to), 2, "no VM is named 'nope'")
    refused(cli(running_sim, "backup", url, "vm", "WEB-01", *to), 2, "did you mean 'web-01'")
    refused(cli(running_sim, "backup", url, "vm", "web-03", *to), 2, "2 VMs are named 'web-03'")
    refused(cli(running_sim, "backup", url, "vm", "Rocky Linux 9", *to), 2, "is a template")
    refused(cli(running_sim, "backup", url, "vm", *to), 2, "name the VM")
    refused(cli(running_sim, "backup", url, "pool-db", "x", *to), 2, "pool-db takes no name")
    refused(
        cli(running_sim, "backup", url, "vm", "web-01", "--to", str(taken), "--yes"),
        2,
        "backups never overwrite",
    )
    # no terminal, no --yes: a cron job must say so
    out = cli(running_sim, "backup", url, "vm", "web-01", "--to", str(tmp_path / "new.xva"))
    refused(out, 2, "pass --yes")
    out = cli(running_sim, "backup", "http://127.0.0.1:9", "vm", "web-01", *to)
    assert out.returncode == 3, out.stderr
    assert counts(st) == before and taken.read_text() == "mine"
    assert not (tmp_path / "new.xva").exists()


def test_bad_restores_are_refused_in_words_leaving_nothing(running_sim, xapi, tmp_path):
    x, url, st = xapi.xenapi, running_sim.url, running_sim.sim.store
    path = tmp_path / "dc.xva"  # a 60 GiB disk
    out = cli(running_sim, "backup", url, "vm", "dc-01", "--to", str(path), "--yes")
    assert out.returncode == 0, out.stderr
    cut = tmp_path / "cut.xva"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    def corrupt(info, data):
        return bytes([data[0] ^ 0xFF]) + data[1:] if info.name == "Ref:1/00000005" else data

    bad = rewritten(path, tmp_path / "bad.xva", corrupt)
    text = tmp_path / "notes.txt"
    text.write_text("not an archive\n")
    before = counts(st)
    # a thick SR allocates the disk whole: xcp-b's local SR has 46 GiB free
    out = cli(running_sim, "restore", url, str(path), "--sr", "Local storage on xcp-b", "--yes")
    refused(out, 2, "has 46 GiB free", "need 60 GiB")
    refused(
        cli(running_sim, "restore", url, str(path), "--sr", "Local storage", "--yes"),
        2,
        "3 SRs are named 'Local storage'",
    )
    refused(
        cli(running_sim, "restore", url, str(path), "--sr", "ISO library", "--yes"),
        2,
        "no SR that disks can go to is named 'ISO library'",
    )
    refused(cli(running_sim, "restore", url, str(text), "--yes"), 2, "not an XVA nor VM metadata")
    refused(cli(running_sim, "restore", url, str(tmp_path / "none.xva"), "--yes"), 2, "none.xva")
    # found while streaming: stopped, what the host made removed
    refused(cli(running_sim, "restore", url, str(cut), "--yes"), 2, "cut short", "as it was")
    out = cli(running_sim, "restore", url, str(bad), "--yes", "--json")
    assert out.returncode == 2, out.stderr  # the plan on stderr, then the one line
    assert out.stderr.splitlines()[-1].startswith("xstui: Import dc-01 backup")
    doc = json.loads(out.stdout)
    assert not doc["done"] and "Ref:1/00000005: the checksum does not match" in doc["error"]
    assert counts(st) == before
    assert len(x.VM.get_by_name_label("dc-01")) == 1


def test_on_a_terminal_it_asks_and_shows_the_bytes(running_sim, tmp_path):
    """stdin and stderr a terminal: the question (n: nothing done, exit 1;
    y: done), and the progress with its MiB on stderr."""
    url = running_sim.url

    def on_terminal(answer: str, dest) -> tuple[subprocess.CompletedProcess, str]:
        leader, follower = pty.openpty()
        seen = []

        def read() -> None:
            while True:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                seen.append(chunk)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        os.write(leader, answer.encode() + b"\n")
        try:
            out = subprocess.run(
                [sys.executable, "-m", "xstui", "backup", url, "vm", "web-01", "--to", str(dest)],
                stdout=subprocess.PIPE,
                stdin=follower,
                stderr=follower,
                text=True,
                timeout=120,
                env={**os.environ, "XSTUI_PASSWORD": running_sim.password},
            )
        finally:
            os.close(follower)
            reader.join(10)
            os.close(leader)
        return out, b"".join(seen).decode(errors="replace")

    out, terminal = on_terminal("n", tmp_path / "no.xva")
    assert out.returncode == 1 and "Go on? [y/N]" in terminal, (out.stdout, terminal)
    assert "xe vm-snapshot" in out.stdout  # the plan, with its xe equivalent
    assert "not confirmed; nothing was done" in terminal and not (tmp_path / "no.xva").exists()
    out, terminal = on_terminal("y", tmp_path / "yes.xva")
    assert out.returncode == 0, (out.stdout, terminal)
    assert "MiB received" in terminal and "taking a snapshot" in terminal, terminal
    assert out.stdout.splitlines()[-1].startswith("web-01 saved to")


def test_ctrl_c_undoes_what_was_done(running_sim, xapi, tmp_path):
    """Ctrl-C while the export streams: the snapshot and the partial file go,
    one line says so, exit 130."""
    x = xapi.xenapi
    running_sim.sim.data_scale = 1 / 16  # a long export: GiBs, stopped in its first MiBs
    (vm,) = x.VM.get_by_name_label("sql-prod-01")
    folder = tmp_path / "out"
    folder.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "xstui", "backup", running_sim.url, "vm", "sql-prod-01"]
        + ["--to", str(folder / "sql.xva"), "--yes"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "XSTUI_PASSWORD": running_sim.password},
    )
    try:
        wait_for(lambda: any(folder.iterdir()), what="the export streaming into its file")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, (out, err)
    assert err.splitlines()[-1] == (
        "xstui: Back up sql-prod-01 to an XVA: Cancelled. The 1 step(s) already done were "
        "undone: the pool is as it was."
    ), err
    assert not any(folder.iterdir()) and x.VM.get_snapshots(vm) == []


def test_vm_metadata_comes_back_the_same_way(running_sim, xapi, live, tmp_path):
    """A metadata file (the screen's m): the VM record back onto its disks,
    through XAPI's dry run; what applies to an XVA alone is refused."""
    from xstui.services import backup as bk

    x, url = xapi.xenapi, running_sim.url
    (vm,) = x.VM.get_by_name_label("legacy-erp")
    before = picture(x, vm)
    (meta,) = bk.export_metadata(live, [vm], tmp_path)
    out = cli(running_sim, "restore", url, str(meta), "--yes")
    refused(out, 2, "every VM in these files is in the pool already")
    x.VM.destroy(vm)  # the record goes, its disks stay on the SR
    out = cli(running_sim, "restore", url, str(meta), "--sr", "NFS VM store", "--yes")
    refused(out, 2, "holds VM metadata", "--sr apply to an XVA only")
    out = cli(running_sim, "restore", url, str(tmp_path), "--yes", "--json")  # the folder
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["vms"] == [{"name": "legacy-erp", "uuid": before["uuid"]}]
    assert "xe vm-import metadata=true" in out.stderr
    (back,) = x.VM.get_by_name_label("legacy-erp")
    # the simulator's /import_metadata brings the VM and its VBDs, not its VIFs
    assert {**picture(x, back), "vifs": None} == {**before, "vifs": None}


def test_a_pool_without_a_default_sr_asks_for_one(running_sim, xapi, tmp_path):
    x, url = xapi.xenapi, running_sim.url
    path = tmp_path / "vpn.xva"
    out = cli(running_sim, "backup", url, "vm", "vpn-gw", "--to", str(path), "--yes")
    assert out.returncode == 0, out.stderr
    (pool,) = x.pool.get_all()
    x.pool.set_default_SR(pool, "OpaqueRef:NULL")
    before = counts(running_sim.sim.store)
    out = cli(running_sim, "restore", url, str(path), "--yes")
    refused(out, 2, "the pool has no default SR", "choose one with --sr", "NFS VM store")
    assert counts(running_sim.sim.store) == before


def test_a_role_that_may_not_is_told_before_anything(joined_sim, tmp_path):
    """alice is read-only: refused with the role it needs, no file, no snapshot."""
    before = counts(joined_sim.sim.store)
    out = subprocess.run(
        [sys.executable, "-m", "xstui", "backup", joined_sim.url, "vm", "web-01"]
        + ["--to", str(tmp_path / "web.xva"), "--yes", "--user", "alice"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XSTUI_PASSWORD": "Alice-Demo1"},
        stdin=subprocess.DEVNULL,
    )
    refused(out, 2, "Back up web-01 to an XVA: ", "Nothing was done.")
    assert counts(joined_sim.sim.store) == before and not (tmp_path / "web.xva").exists()
