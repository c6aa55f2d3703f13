"""VM import end to end over real HTTP against the simulator (``PUT
/import``, as ``xe vm-import``): a VM exported with the Backup area's code,
destroyed, and brought back with its UUID, MACs, memory, name and disks;
refusals in words before streaming (a restore whose VM or MACs are in the
pool, a file from a newer release, an SR without room, not an XVA) and
while streaming (a corrupt block, a cut file, a disk short of blocks), each
leaving nothing behind; the simulator's own answers, as XAPI's."""

from __future__ import annotations

import http.client
import io
import tarfile
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.waiting import wait_for
from xstui.services import backup as bk
from xstui.services import vms
from xstui.services.actions import ActionFailed, InvalidInput, RunContext


def ref_of(cache, name: str) -> str:
    with cache.lock:
        return next(v.ref for v in cache.table("vm").values() if v.name_label == name)


def export(conn, name: str, path: Path) -> Path:
    bk.BackupVm(conn.cache, ref_of(conn.cache, name), str(path)).execute(RunContext(conn))
    return path


def importer(conn, path: Path, sr: str = "NFS VM store", restore=False, force=False):
    source = bk.import_source(conn.cache, str(path))
    label = next(f for f in bk.ImportVm.fields(conn.cache, source.header) if f.name == "sr")
    chosen = next(c for c in label.choices if c.startswith(sr))
    return bk.ImportVm(
        conn.cache,
        source,
        chosen,
        "kept (a restore)" if restore else "new ones (a copy)",
        "yes: let bad blocks in, keep what fails" if force else "no",
    )


def offered(conn, path: Path) -> str:
    """What the import form offers first for the UUID and MACs."""
    header = bk.import_source(conn.cache, str(path)).header
    return next(f.value for f in bk.ImportVm.fields(conn.cache, header) if f.name == "restore")


def counts(st) -> tuple[int, int, int, int]:
    with st.lock:
        return tuple(len(st.table(c)) for c in ("VM", "VDI", "VBD", "VIF"))


def rewritten(src: Path, dest: Path, change) -> Path:
    """A copy of the XVA, each member passed through ``change(info, data)``
    (None leaves it out)."""
    with tarfile.open(src) as tin, tarfile.open(dest, "w", format=tarfile.USTAR_FORMAT) as tout:
        for info in tin:
            data = tin.extractfile(info).read()
            kept = change(info, data)
            if kept is not None:
                info.size = len(kept)
                tout.addfile(info, io.BytesIO(kept))
    return dest


def newer_release(info, data: bytes) -> bytes:
    """ova.xml as a toolstack nine major versions ahead would write it."""
    if info.name != "ova.xml":
        return data
    return data.replace(b"<name>xapi_major</name><value>", b"<name>xapi_major</name><value>9", 1)


def test_a_vm_exported_destroyed_and_restored_comes_back_the_same(live, running_sim, tmp_path):
    conn, st = live, running_sim.sim.store
    vm = ref_of(conn.cache, "test-ubuntu-24")
    before = dict(st.get("VM", vm))
    macs = sorted(st.get("VIF", v)["MAC"] for v in before["VIFs"])
    disks = sorted(
        (st.get("VDI", d)["virtual_size"], st.get("VDI", d)["physical_utilisation"])
        for d in (st.get("VBD", b)["VDI"] for b in before["VBDs"])
    )
    path = export(conn, "test-ubuntu-24", tmp_path / "ubuntu.xva")  # halted: as it is
    assert bk.import_source(conn.cache, str(path)).header.vm_uuid == before["uuid"]
    with pytest.raises(InvalidInput, match="a VM with its UUID is in the pool already"):
        importer(conn, path, restore=True)
    # the VM goes, with its disks, as the console deletes one (F8, X: xe vm-uninstall)
    vdis = [st.get("VBD", b)["VDI"] for b in before["VBDs"]]
    with pytest.raises(InvalidInput, match="dc-01 is running: shut it down first"):
        vms.DeleteVm(conn.cache, ref_of(conn.cache, "dc-01"))
    delete = vms.DeleteVm(conn.cache, vm)
    said = delete.plan()
    assert said.xe == [f"xe vm-uninstall uuid={before['uuid']} force=true"]
    assert (said.risk, said.confirm_word) == ("high", "test-ubuntu-24")
    assert f"its {len(vdis)} disk(s) are destroyed" in " ".join(said.impact)
    assert delete.execute(RunContext(conn)) == f"test-ubuntu-24 deleted with {len(vdis)} disk(s)."
    assert not any(st.exists("VDI", vdi) for vdi in vdis)
    wait_for(lambda: conn.cache.get("vm", vm) is None, what="the VM gone")
    assert offered(conn, path) == "kept (a restore)"  # nothing of it in the pool now
    notes = []
    action = importer(conn, path, restore=True)
    plan = action.plan()
    assert "xe vm-import" in plan.xe[0] and "preserve=true" in plan.xe[0]
    assert any(before["uuid"] in i for i in plan.impact)
    action.precheck(conn)  # room on the NFS SR
    outcome = action.execute(RunContext(conn, note=notes.append))
    (new,) = action.made
    rec = st.get("VM", new)
    assert f"uuid {before['uuid']}" in outcome and "test-ubuntu-24" in outcome
    assert rec["uuid"] == before["uuid"] and rec["name_label"] == "test-ubuntu-24"
    assert rec["power_state"] == "Halted" and rec["current_operations"] == {}
    for field in ("memory_static_max", "memory_dynamic_max", "VCPUs_max", "other_config"):
        assert rec[field] == before[field], field
    assert sorted(st.get("VIF", v)["MAC"] for v in rec["VIFs"]) == macs
    assert (
        sorted(
            (st.get("VDI", d)["virtual_size"], st.get("VDI", d)["physical_utilisation"])
            for d in (st.get("VBD", b)["VDI"] for b in rec["VBDs"])
        )
        == disks
    )
    assert any("MiB sent" in n and "block(s) checked" in n for n in notes)  # progress in bytes
    # the same file as a copy: a new UUID and new MACs, beside it
    copy = importer(conn, path)
    copy.execute(RunContext(conn))
    (other,) = copy.made
    assert st.get("VM", other)["uuid"] != before["uuid"]
    assert not set(macs) & {st.get("VIF", v)["MAC"] for v in st.get("VM", other)["VIFs"]}


def test_a_restore_whose_macs_are_in_use_is_refused(live, tmp_path):
    conn = live
    # a running VM is exported through a snapshot: its MACs, another UUID
    path = export(conn, "web-01", tmp_path / "web.xva")
    assert offered(conn, path) == "new ones (a copy)"  # a restore is not offered first
    with pytest.raises(InvalidInput, match="its MACs are in use: .*web-01"):
        importer(conn, path, restore=True)


def test_a_corrupt_block_stops_the_import_and_leaves_nothing(live, running_sim, tmp_path):
    conn, st = live, running_sim.sim.store
    path = export(conn, "proxy-01", tmp_path / "proxy.xva")

    def corrupt(info, data):
        if info.name == "Ref:1/00000005":
            return bytes([data[0] ^ 0xFF]) + data[1:]
        return data

    bad = rewritten(path, tmp_path / "bad.xva", corrupt)
    before = counts(st)
    with pytest.raises(ActionFailed) as failed:
        importer(conn, bad).execute(RunContext(conn))
    words = str(failed.value)
    assert "checksum" in words and "Ref:1/00000005" in words, words
    assert not failed.value.undo_problems
    wait_for(lambda: counts(st) == before, what="nothing left behind")
    # forced, the bad block is let in and said
    forced = importer(conn, bad, force=True)
    assert forced.plan().risk == "medium"
    outcome = forced.execute(RunContext(conn))
    assert "1 block(s) failed their checksum" in outcome and "Ref:1/00000005" in outcome


@pytest.mark.parametrize("fault", ["cut", "short", "forced-cut"])
def test_a_file_cut_or_short_of_blocks_leaves_nothing(live, running_sim, tmp_path, fault):
    conn, st = live, running_sim.sim.store
    path = export(conn, "vpn-gw", tmp_path / "vpn.xva")
    if fault == "short":  # the last block and its checksum left out: a disk short of data
        with tarfile.open(path) as tar:
            last = [m.name for m in tar if m.name.startswith("Ref:1/")][-1]
        broken = rewritten(
            path, tmp_path / "short.xva", lambda i, d: None if i.name.startswith(last) else d
        )
    else:
        broken = tmp_path / "cut.xva"
        broken.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    before = counts(st)
    with pytest.raises(ActionFailed) as failed:
        importer(conn, broken, force=fault == "forced-cut").execute(RunContext(conn))
    words = str(failed.value)
    assert "cut short" in words or "truncated" in words, words
    # forced, the host keeps what it made: the console removes it
    assert not failed.value.undo_problems and failed.value.undone == 1
    wait_for(lambda: counts(st) == before, what="nothing left behind")


def test_refused_before_streaming(live, running_sim, tmp_path):
    conn = live
    path = export(conn, "dc-01", tmp_path / "dc.xva")  # a 60 GiB disk
    # a thick SR allocates a disk whole: xcp-b's local SR has 46 GiB free
    action = importer(conn, path, sr="Local storage on xcp-b")
    with pytest.raises(InvalidInput, match="has 46 GiB free; the 1 disk.* need 60 GiB"):
        action.precheck(conn)
    importer(conn, path, sr="Local storage on xcp-c").precheck(conn)  # 589 GiB free
    # from a newer release
    newer = rewritten(path, tmp_path / "newer.xva", newer_release)
    with pytest.raises(InvalidInput, match="comes from a newer release"):
        importer(conn, newer)
    # not an XVA: no ova.xml first
    other = rewritten(
        path, tmp_path / "no-ova.xva", lambda i, d: None if i.name == "ova.xml" else d
    )
    with pytest.raises(InvalidInput, match="not an XVA nor VM metadata: it does not start"):
        bk.import_source(conn.cache, str(other))
    text = tmp_path / "notes.txt"
    text.write_text("not an archive\n")
    with pytest.raises(InvalidInput, match="not an XVA nor VM metadata"):
        bk.import_source(conn.cache, str(text))
    # metadata only: the same way in, the metadata import
    meta = bk.export_metadata(conn, [ref_of(conn.cache, "legacy-erp")], tmp_path)[0]
    with pytest.raises(InvalidInput, match="in the pool already"):
        bk.import_source(conn.cache, str(meta))


def put_import(url: str, session: str, task: str, query: dict, body: bytes) -> int | str:
    parts = urlsplit(url)
    link = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        link.request(
            "PUT", f"/import?{urlencode({'session_id': session, 'task_id': task, **query})}", body
        )
        return link.getresponse().status
    except OSError as exc:  # the host stops reading once it refused
        return str(exc)
    finally:
        link.close()


def test_the_simulator_answers_as_xapi(running_sim, xapi, tmp_path, live):
    conn, st, x = live, running_sim.sim.store, xapi.xenapi
    body = export(conn, "backup-proxy", tmp_path / "bp.xva").read_bytes()
    nfs = x.SR.get_by_name_label("NFS VM store")[0]
    iso = x.SR.get_by_name_label("ISO library")[0]

    def verdict(query: dict, data: bytes = body) -> list[str]:
        task = x.task.create("import", "")
        put_import(running_sim.url, xapi._session, task, query, data)
        wait_for(lambda: x.task.get_status(task) != "pending", what="the import's verdict")
        rec = x.task.get_record(task)
        return rec["error_info"] or ["success", rec["result"]]

    before = counts(st)
    # a restore of a halted VM of that uuid, not older: XAPI's own refusal
    assert verdict({"sr_id": nfs, "restore": "true"})[0] == "VM_TO_IMPORT_IS_NOT_NEWER_VERSION"
    assert verdict({"sr_id": iso}) == ["SR_OPERATION_NOT_SUPPORTED", iso]
    newer = rewritten(tmp_path / "bp.xva", tmp_path / "newer.xva", newer_release).read_bytes()
    assert verdict({"sr_id": nfs}, newer) == ["IMPORT_INCOMPATIBLE_VERSION"]
    no_ova = rewritten(
        tmp_path / "bp.xva",
        tmp_path / "no-ova.xva",
        lambda i, d: None if i.name == "ova.xml" else d,
    )
    assert verdict({"sr_id": nfs}, no_ova.read_bytes()) == [
        "IMPORT_ERROR_UNEXPECTED_FILE",
        "ova.xml",
        "Ref:1/00000000",
    ]
    assert verdict({"sr_id": nfs}, body[1024:])[0] == "IMPORT_ERROR"  # not a tar from there
    assert verdict({"sr_id": nfs}, body[: len(body) // 2]) == ["IMPORT_ERROR_PREMATURE_EOF"]
    assert counts(st) == before  # none of these made anything
    # another VM with its MAC seed (a copy of it made meanwhile): DUPLICATE_MAC_SEED
    vm = x.VM.get_by_name_label("backup-proxy")[0]
    x.VM.destroy(vm)
    clone = x.VM.get_by_name_label("web-02")[0]
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        ova = tar.extractfile("ova.xml").read().decode()
    file_seed = ova.split("<name>mac_seed</name><value>")[1].split("<")[0]
    x.VM.remove_from_other_config(clone, "mac_seed")
    x.VM.add_to_other_config(clone, "mac_seed", file_seed)
    assert verdict({"sr_id": nfs, "restore": "true"}) == ["DUPLICATE_MAC_SEED", file_seed]
    # a copy is made all the same: halted, its refs the task's result
    ok = verdict({"sr_id": nfs})
    assert ok[0] == "success" and "OpaqueRef:" in ok[1]


def test_the_import_form_offers_the_newest_backup_never_a_refusal_first(tmp_path, monkeypatch):
    """A new admin's trial: the form said "no .meta.xva file" before
    anything was typed (it offered the folder, which holds XVA files)."""
    import os

    monkeypatch.setenv("XSTUI_BACKUP_DIR", str(tmp_path))
    (field,) = bk.source_fields()
    assert field.value == str(tmp_path)  # nothing there yet: the folder
    older, newer = tmp_path / "web-01-1.xva", tmp_path / "web-01-2.xva"
    for age, path in ((200, older), (100, newer)):
        path.write_bytes(b"")
        os.utime(path, (path.stat().st_atime - age, path.stat().st_mtime - age))
    (tmp_path / "notes.txt").write_text("not a backup")
    (field,) = bk.source_fields()
    assert field.value == str(newer)
