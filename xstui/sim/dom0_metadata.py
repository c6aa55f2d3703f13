"""The fake dom0's ``xe-backup-metadata`` and ``xe-restore-metadata``: they
behave like the host's scripts (same options, exit codes and layout) on the
simulator's data, through its dom0 socket (``XSTUI_XAPI_SOCKET``).

The backup VDI ("Pool Metadata Backup", ``other_config:ctxs-pool-backup=
true``) is a real VDI record on the chosen SR; what the real scripts write
inside it (``<pool uuid>.db``, ``metadata/<date>/{all,by-sr/<sr>}/<vm>.vmmeta``)
lives in the fake dom0 folder under ``var/lib/xstui-sim/vdis/<vdi uuid>``, as
if that VDI were mounted. 12 backups are kept unless ``-k`` says otherwise."""

from __future__ import annotations

import getopt
import io
import os
import shutil
import sys
import tarfile
import time
from pathlib import Path

import XenAPI

BACKUP_NAME = "Pool Metadata Backup"
KEEP = 12


def _root() -> Path:
    return Path(os.environ.get("XSTUI_DOM0_ROOT", "/"))


def _target():
    from ..xapi.targets import Target

    return Target("local", socket_path=os.environ["XSTUI_XAPI_SOCKET"])


def _session() -> XenAPI.Session:
    from ..xapi.transport import TargetTransport

    session = XenAPI.Session("http://local/", transport=TargetTransport(_target(), None, 60))
    session.xenapi.login_with_password("root", "", "1.0", "xe-metadata")
    return session


def _http(session, method: str, path: str, body: bytes = b"") -> bytes:
    from ..xapi.transport import http_connection

    conn = http_connection(_target(), None, 120)
    sep = "&" if "?" in path else "?"
    conn.request(method, f"{path}{sep}session_id={session._session}", body=body or None)
    reply = conn.getresponse()
    data = reply.read()
    conn.close()
    if reply.status != 200:
        raise RuntimeError(data.decode(errors="replace").strip() or f"HTTP {reply.status}")
    return data


def _mount(vdi_uuid: str) -> Path:
    return _root() / "var/lib/xstui-sim/vdis" / vdi_uuid


def _find_vdi(x, sr_uuid: str) -> str | None:
    sr = x.SR.get_by_uuid(sr_uuid)
    for vdi in x.SR.get_VDIs(sr):
        if x.VDI.get_other_config(vdi).get("ctxs-pool-backup") == "true":
            return x.VDI.get_uuid(vdi)
    return None


def backup(argv: list[str] | None = None) -> int:
    """xe-backup-metadata [-c] [-n] [-k N] -u SR: exit 3 with -n when the SR
    has no backup VDI yet (xsconsole then adds -c)."""
    try:
        opts, _ = getopt.getopt(sys.argv[1:] if argv is None else argv, "hcnk:u:")
    except getopt.GetoptError as exc:
        print(f"xe-backup-metadata: {exc}", file=sys.stderr)
        return 1
    o = dict(opts)
    session = _session()
    x = session.xenapi
    pool = x.pool.get_all()[0]
    sr_uuid = o.get("-u") or x.SR.get_uuid(x.pool.get_default_SR(pool))
    keep = int(o.get("-k", KEEP))
    try:
        vdi_uuid = _find_vdi(x, sr_uuid)
    except XenAPI.Failure as exc:
        print(f"Invalid SR UUID specified: {sr_uuid} ({exc.details[0]})", file=sys.stderr)
        return 1
    if "-n" in o:
        if vdi_uuid is None:
            print("No backup VDI found on this SR", file=sys.stderr)
            return 3
        print(vdi_uuid)
        return 0
    if vdi_uuid is None:
        if "-c" not in o:
            print("Backup VDI not found; run again with -c to create one", file=sys.stderr)
            return 1
        ref = x.VDI.create(
            {
                "SR": x.SR.get_by_uuid(sr_uuid),
                "name_label": BACKUP_NAME,
                "name_description": "Pool metadata backups (xe-backup-metadata)",
                "virtual_size": str(256 << 20),
                "type": "user",
                "sharable": False,
                "read_only": False,
                "other_config": {"ctxs-pool-backup": "true"},
            }
        )
        vdi_uuid = x.VDI.get_uuid(ref)
        print(f"Created backup VDI {vdi_uuid}")
    else:
        print(f"Using existing backup VDI: {vdi_uuid}")
    mount = _mount(vdi_uuid)
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S")
    here = mount / "metadata" / stamp
    (here / "all").mkdir(parents=True, exist_ok=True)
    print("Backing up pool database...")
    (mount / f"{x.pool.get_uuid(pool)}.db").write_bytes(_http(session, "GET", "/pool/xmldbdump"))
    vms = [
        (ref, rec)
        for ref, rec in x.VM.get_all_records().items()
        if not (rec["is_a_template"] or rec["is_control_domain"] or rec["is_a_snapshot"])
    ]
    for ref, rec in vms:
        meta = _http(session, "GET", f"/export_metadata?uuid={rec['uuid']}")
        (here / "all" / f"{rec['uuid']}.vmmeta").write_bytes(meta)
        for sr in _vm_srs(x, ref):
            folder = here / "by-sr" / sr
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{rec['uuid']}.vmmeta").write_bytes(meta)
    print(f"Exported metadata of {len(vms)} VMs")
    dates = sorted((mount / "metadata").iterdir())
    for old in dates[:-keep]:
        shutil.rmtree(old)
        print(f"Removed old backup {old.name}")
    print(f"Backup {stamp} complete on SR {sr_uuid}")
    return 0


def _vm_srs(x, vm: str) -> set[str]:
    srs = set()
    for vbd in x.VM.get_VBDs(vm):
        vdi = x.VBD.get_VDI(vbd)
        if vdi != "OpaqueRef:NULL":
            srs.add(x.SR.get_uuid(x.VDI.get_SR(vdi)))
    return srs


def restore(argv: list[str] | None = None) -> int:
    """xe-restore-metadata -p -u SR | -l -u SR -x VDI |
    -y [-n] -u SR -x VDI -d DATE -m sr|all."""
    try:
        opts, _ = getopt.getopt(sys.argv[1:] if argv is None else argv, "hpnlyu:x:d:m:")
    except getopt.GetoptError as exc:
        print(f"xe-restore-metadata: {exc}", file=sys.stderr)
        return 1
    o = dict(opts)
    session = _session()
    x = session.xenapi
    sr_uuid = o.get("-u", "")
    if "-p" in o:
        vdi = _find_vdi(x, sr_uuid)
        if vdi is None:
            print("No metadata backup VDI found on this SR", file=sys.stderr)
            return 1
        print(vdi)
        return 0
    mount = _mount(o.get("-x", ""))
    if not (mount / "metadata").is_dir():
        print(f"Backup VDI {o.get('-x', '')} holds no metadata backups", file=sys.stderr)
        return 1
    dates = sorted((d.name for d in (mount / "metadata").iterdir()), reverse=True)
    if "-l" in o:
        print("\n".join(dates))
        return 0
    date = o.get("-d") or dates[0]
    mode = o.get("-m", "sr")
    if date not in dates or mode not in ("sr", "all"):
        print(f"No backup dated {date!r}, or mode {mode!r} is not sr or all", file=sys.stderr)
        return 1
    folder = mount / "metadata" / date / ("all" if mode == "all" else f"by-sr/{sr_uuid}")
    files = sorted(folder.glob("*.vmmeta")) if folder.is_dir() else []
    dry = "-n" in o
    done = failed = 0
    for meta in files:
        data = meta.read_bytes()
        name = _vm_name(data)
        query = "/import_metadata?dry_run=true" if dry else "/import_metadata"
        try:
            _http(session, "PUT", query, data)
        except RuntimeError as exc:
            print(f"{'Dry run: ' if dry else ''}{name}: not imported ({exc})")
            failed += 1
            continue
        print(f"{'Dry run: would import' if dry else 'Imported'} {name} ({meta.stem})")
        done += 1
    verb = "would be imported" if dry else "imported"
    print(f"{done} VM(s) {verb}, {failed} not, from the backup of {date} ({mode})")
    return 0


def _vm_name(data: bytes) -> str:
    import re

    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        ova = tar.extractfile("ova.xml").read()
    match = re.search(rb"<name>name_label</name>\s*<value>(?:<string>)?([^<]*)", ova)
    return match.group(1).decode(errors="replace") if match else "?"
