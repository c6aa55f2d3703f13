"""The Storage screen: the SRs (shared first) with where each is attached and
what it uses against what it promises; the selected one's PBDs and the VMs
with disks on it. A new NFS SR starts from what the server exports."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from xstui.services import storage as sto
from xstui.services.actions import InvalidInput
from xstui.services.fields import Field, problem_of
from xstui.services.validate import host_or_ip
from xstui.services.values import size
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.flow import ask, connected, perform, read
from xstui.widgets.form import FormModal
from xstui.widgets.notice import notify_error
from xstui.widgets.rowlist import RowList

from .base import AreaScreen, requires

COLUMNS = [("SR", 20), ("Type", 9), ("Where", 10), ("Used", 34)]


class StorageScreen(AreaScreen):
    BINDINGS = [
        Binding("n", "new_sr", "New SR", id="storage.new_sr"),
        Binding("a", "attach", "Attach", id="storage.attach"),
        Binding("d", "detach", "Detach", id="storage.detach"),
        Binding("f", "forget", "Forget", id="storage.forget", show=False),
        Binding("X", "destroy", "Destroy", id="storage.destroy", show=False),
        Binding("D", "default", "Default SR", id="storage.default"),
        Binding("M", "multipath", "Multipath", id="storage.multipath", show=False),
        Binding("s", "rescan", "Rescan", id="storage.rescan", show=False),
        Binding("v", "disks", "Disks", id="storage.disks", show=False),
    ]
    DRAWN_FROM = frozenset({"sr", "pbd", "vdi", "vbd", "vm", "pool", "host"})

    show_disks = False  # v: the selected SR's disks in the details

    def compose_body(self) -> ComposeResult:
        yield RowList(COLUMNS, id="srs", markable=False)
        yield Static("", id="sr-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RowList).focus()

    def refresh_view(self, classes=None) -> None:
        if not self.drawable(classes):
            return
        rows = sto.sr_rows(self.conn.cache)
        self.query_one(RowList).set_rows(
            [
                (
                    r.ref,
                    (
                        r.name + (" *" if r.default else ""),
                        r.type,
                        r.where,
                        r.usage,
                    ),
                )
                for r in rows
            ]
        )
        self.draw_detail()

    @on(RowList.Moved)
    def _moved(self) -> None:
        self.draw_detail()

    def draw_detail(self) -> None:
        sr = self.query_one(RowList).cursor_key
        text = Text()
        if sr is not None:
            detail = sto.sr_detail(self.conn.cache, sr)
            text.append("Attached on: ", style="bold")
            text.append(
                ", ".join(f"{h} ({'yes' if plugged else 'no'})" for _, h, plugged, _ in detail.pbds)
                or "no host"
            )
            text.append(f"\n{detail.disks} disk(s); VMs with disks here: ", style="bold")
            if self.show_disks:
                text.append("\nDisks on it (v hides them): ", style="bold")
                text.append(
                    ", ".join(f"{n} {size(vs)}" for n, vs, _ in detail.vdis[:10])
                    + (f" and {len(detail.vdis) - 10} more" if len(detail.vdis) > 10 else "")
                    or "none"
                )
            names = [f"{n} ({p.lower()})" for n, p in detail.vms]
            text.append(
                ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
                or "none"
            )
        state = sto.multipath_state(self.conn.cache)
        on = [n for n, yes in sorted(state.items()) if yes]
        text.append("\nMultipathing: ", style="bold")
        text.append(f"on for {', '.join(on)}" if on else "off on every host (M turns it on)")
        text.append(
            "\n* the default SR. n: new SR; a/d: attach/detach; f: forget; X: destroy; s: rescan; v: disks"
        )
        self.query_one("#sr-detail", Static).update(text)

    def _selected(self) -> str:
        return self.query_one(RowList).cursor_key or ""

    async def _run(self, make) -> None:
        action = await ask(self.app, "", [], lambda _: make(self.conn.cache, self._selected()))
        if action is not None:
            await perform(self.app, action)

    @requires(sto.CreateNfsSr, sto.CreateBlockSr)
    @work(exit_on_error=False, group="action", description="new SR")
    async def action_new_sr(self) -> None:
        if not connected(self.app):
            return
        kinds = {"NFS": "nfs", **{label: kind for kind, label in sto.KINDS.items()}}
        kind = await self.app.push_screen_wait(
            FormModal(
                "New SR",
                [Field("kind", "Storage", "NFS", choices=list(kinds))],
                lambda v: kinds[v["kind"]],
            )
        )
        flows = {
            "nfs": self._new_nfs,
            "lvmoiscsi": self._new_iscsi,
            "lvmohba": self._new_hba,
            "lvm": self._new_local,
            "ext": self._new_local,
        }
        if kind in flows:
            await flows[kind](kind)

    async def _new_block(self, kind: str, config: dict, luns: list, where: str) -> None:
        if not luns:
            notify_error(self.app, InvalidInput([f"{where} offers no LUN"]))
            return
        labels = {lun.label: lun for lun in luns}
        cache = self.conn.cache
        action = await ask(
            self.app,
            f"New {sto.KINDS[kind]} SR: which LUN of {where}?",
            [
                Field("lun", "LUN", next(iter(labels)), choices=list(labels)),
                Field("name", "Name", f"{sto.KINDS[kind].split()[0]} {where}"),
            ],
            lambda v: sto.CreateBlockSr(
                cache, kind, {**config, "SCSIid": labels[v["lun"]].scsi_id}, v["name"]
            ),
        )
        if action is not None:
            await perform(self.app, action)

    async def _new_iscsi(self, kind: str) -> None:
        conn = self.conn
        config = await self.app.push_screen_wait(
            FormModal(
                "New iSCSI SR: which target?",
                sto.iscsi_fields(),
                lambda v: sto.iscsi_config(v["target"], v["chapuser"], v["chappassword"]),
            )
        )
        if config is None:
            return
        iqns = await read(self.app, sto.iscsi_iqns, conn, config)
        if not iqns:
            if iqns is not None:
                notify_error(self.app, InvalidInput(["the target offers no IQN"]))
            return
        iqn = iqns[0]
        if len(iqns) > 1:
            iqn = await self.app.push_screen_wait(
                FormModal(
                    "Which target IQN?",
                    [Field("iqn", "IQN", iqns[0], choices=iqns)],
                    lambda v: v["iqn"],
                )
            )
            if iqn is None:
                return
        luns = await read(self.app, sto.iscsi_luns, conn, config, iqn)
        if luns is not None:
            await self._new_block(kind, {**config, "targetIQN": iqn}, luns, config["target"])

    async def _new_hba(self, kind: str) -> None:
        luns = await read(self.app, sto.hba_luns, self.conn)
        if luns is not None:
            await self._new_block(kind, {}, luns, "the HBAs")

    async def _new_local(self, kind: str) -> None:
        cache = self.conn.cache
        with cache.lock:
            hosts = {h.name_label: h.ref for h in cache.table("host").values()}
        action = await ask(
            self.app,
            f"New {sto.KINDS[kind]} SR on a host's free disk",
            [
                Field("host", "Host", sorted(hosts)[0], choices=sorted(hosts)),
                Field("device", "Disk", "/dev/sdb", placeholder="/dev/sdX, never a software RAID"),
                Field("name", "Name", "Local SSD" if kind == "lvm" else "Backups (ext)"),
            ],
            lambda v: sto.CreateBlockSr(
                cache, kind, {"device": v["device"].strip()}, v["name"], hosts.get(v["host"], "")
            ),
        )
        if action is not None:
            await perform(self.app, action)

    async def _new_nfs(self, kind: str) -> None:
        conn = self.conn
        server = await self.app.push_screen_wait(
            FormModal(
                "New NFS SR: which server?",
                [Field("server", "NFS server", "", problem_of(host_or_ip, "NFS server"))],
                lambda v: host_or_ip(v["server"], "NFS server"),
            )
        )
        if server is None:
            return
        exports = await read(self.app, sto.exports_with_srs, conn, server)
        if exports is None:
            return
        if not exports:
            notify_error(self.app, InvalidInput([f"{server} exports nothing this pool may mount"]))
            return
        action = await ask(
            self.app,
            f"New NFS SR on {server} ({len(exports)} export(s))",
            sto.CreateNfsSr.fields(server, list(exports), {p: len(u) for p, u in exports.items()}),
            lambda v: sto.CreateNfsSr(conn.cache, server, v["path"], v["name"], v["version"]),
        )
        if action is None:
            return
        t = action.target
        found = sto.unknown_srs(conn.cache, exports.get(t.path, []))
        if found:  # an SR the pool does not know is there: bring it back, or add one beside it
            answer = await self.app.push_screen_wait(
                ChoiceModal(
                    "An SR is already there",
                    f"{t.server}:{t.path} holds the SR {found[0]}, unknown to this pool "
                    "(forgotten, or another pool's). Attach it (its disks come back), or "
                    "create a new SR beside it?",
                    [("attach", "Attach it"), ("new", "New SR"), ("no", "Cancel")],
                )
            )
            if answer == "attach":
                action = sto.AttachExistingNfsSr(conn.cache, t, found[0], action.name)
            elif answer != "new":
                return
        await perform(self.app, action)

    def action_disks(self) -> None:
        self.show_disks = not self.show_disks
        self.draw_detail()

    def targets(self, cls: str) -> list[str]:
        return [self._selected()] if cls == "sr" and self._selected() else []

    @requires(sto.RescanSr, operation=("sr", "scan"))
    @work(exit_on_error=False, group="action", description="rescan SR")
    async def action_rescan(self) -> None:
        await self._run(sto.RescanSr)

    @requires(sto.AttachSr, operation=("sr", "plug"))
    @work(exit_on_error=False, group="action", description="attach SR")
    async def action_attach(self) -> None:
        await self._run(sto.AttachSr)

    @requires(sto.DetachSr, operation=("sr", "unplug"))
    @work(exit_on_error=False, group="action", description="detach SR")
    async def action_detach(self) -> None:
        await self._run(sto.DetachSr)

    @requires(sto.ForgetSr)
    @work(exit_on_error=False, group="action", description="forget SR")
    async def action_forget(self) -> None:
        await self._run(sto.ForgetSr)

    @requires(sto.DestroySr)
    @work(exit_on_error=False, group="action", description="destroy SR")
    async def action_destroy(self) -> None:
        await self._run(sto.DestroySr)

    @requires(sto.SetDefaultSr)
    @work(exit_on_error=False, group="action", description="default SR")
    async def action_default(self) -> None:
        await self._run(sto.SetDefaultSr)

    @requires(sto.EnableMultipath)
    @work(exit_on_error=False, group="action", description="multipath")
    async def action_multipath(self) -> None:
        cache = self.conn.cache
        action = await ask(
            self.app,
            "Enable multipathing on a host",
            sto.EnableMultipath.fields(cache),
            lambda v: sto.EnableMultipath(cache, v["host"]),
        )
        if action is not None:
            await perform(self.app, action)
