"""The Storage screen: the SRs (shared first) with where each is attached and
what it uses against what it promises; the selected one's PBDs and the VMs
with disks on it. A new NFS SR starts from what the server exports."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from xstui.services import storage as sto
from xstui.services.actions import InvalidInput
from xstui.services.fields import Field, problem_of
from xstui.services.metrics import perfmon
from xstui.services.validate import host_or_ip
from xstui.services.values import size
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.rowlist import RowList
from xstui.widgets.wizard import Wizard

from .act import Act
from .base import AreaScreen
from .sampling import alarms_act

COLUMNS = [("SR", 20), ("Type", 9), ("Where", 10), ("Used", 34)]


# the new SR wizard: the kind, then each kind's own steps (xstui.widgets.wizard: each
# form keeps what was typed, Escape goes back a step, a failed step says why in its form)
async def _new_sr(turn) -> None:
    kinds = {"NFS": "nfs", **{label: kind for kind, label in sto.KINDS.items()}}
    flows = {
        "nfs": _nfs_steps,
        "lvmoiscsi": _iscsi_steps,
        "lvmohba": _hba_steps,
        "lvm": _local_steps,
        "ext": _local_steps,
    }

    async def kind(w: Wizard) -> None:
        chosen = await w.form(
            "New SR",
            [Field("kind", "Storage", "NFS", choices=list(kinds))],
            lambda v: kinds[v["kind"]],
        )
        w.follow(flows[chosen](turn, chosen))

    await Wizard(turn.app).run([kind])


def _lun_step(turn, kind: str, found: dict):
    """The last step of a block SR: which LUN of those ``found`` holds
    (config, luns, where), and the SR's name."""

    async def lun(w: Wizard) -> None:
        config, luns, where = found["config"], found["luns"], found["where"]
        labels = {x.label: x for x in luns}
        action = await w.form(
            f"New {sto.KINDS[kind]} SR: which LUN of {where}?",
            [
                Field("lun", "LUN", next(iter(labels)), choices=list(labels)),
                Field("name", "Name", f"{sto.KINDS[kind].split()[0]} {where}"),
            ],
            lambda v: sto.CreateBlockSr(
                turn.cache, kind, {**config, "SCSIid": labels[v["lun"]].scsi_id}, v["name"]
            ),
        )
        await w.perform(action)

    return lun


def _no_lun(where: str) -> InvalidInput:
    return InvalidInput([f"{where} offers no LUN"])


def _iscsi_steps(turn, kind: str) -> list:
    conn, found = turn.conn, {}

    async def target(w: Wizard) -> None:
        config = await w.form(
            "New iSCSI SR: which target?",
            sto.iscsi_fields(),
            lambda v: sto.iscsi_config(v["target"], v["chapuser"], v["chappassword"]),
        )
        iqns = await w.read(sto.iscsi_iqns, conn, config)
        if not iqns:
            raise InvalidInput([f"{config['target']} offers no target IQN"])
        found.update(config=config, iqns=iqns, where=config["target"])

    async def iqn(w: Wizard) -> None:
        iqns, iqn = found["iqns"], found["iqns"][0]
        if len(iqns) > 1:
            iqn = await w.form(
                "Which target IQN?",
                [Field("iqn", "IQN", iqns[0], choices=iqns)],
                lambda v: v["iqn"],
            )
        luns = await w.read(sto.iscsi_luns, conn, found["config"], iqn)
        if not luns:
            raise _no_lun(found["where"])
        found.update(config={**found["config"], "targetIQN": iqn}, luns=luns)

    return [target, iqn, _lun_step(turn, kind, found)]


def _hba_steps(turn, kind: str) -> list:
    found = {"config": {}, "where": "the HBAs"}

    async def probe(w: Wizard) -> None:
        found["luns"] = await w.read(sto.hba_luns, turn.conn)
        if not found["luns"]:
            raise _no_lun(found["where"])

    return [probe, _lun_step(turn, kind, found)]


def _local_steps(turn, kind: str) -> list:
    """The host, then one of its disks: listed with the SRs each holds (a
    disk holding one is marked and named); where the host cannot list them,
    the path typed is probed before the plan."""
    conn, cache, found = turn.conn, turn.cache, {}
    title = f"New {sto.KINDS[kind]} SR"
    name = Field("name", "Name", "Local SSD" if kind == "lvm" else "Backups (ext)")

    async def host(w: Wizard) -> None:
        with cache.lock:
            hosts = {h.name_label: h.ref for h in cache.table("host").values()}
        names = sorted(hosts)
        ref = hosts[names[0]]
        if len(names) > 1:
            ref = await w.form(
                f"{title}: on which host's disk?",
                [Field("host", "Host", names[0], choices=names)],
                lambda v: hosts[v["host"]],
            )
        on = cache.label("host", ref)
        disks = await w.read(sto.local_disks, conn, ref, note=f"Looking at the disks of {on}...")
        found.update(host=ref, on=on, disks=disks)

    async def disk(w: Wizard) -> None:
        ref, on, disks = found["host"], found["on"], found["disks"]
        if disks:
            listed = {d.label: d for d in disks}
            first = next((d for d in disks if not d.holds), disks[0]).label
            held = [f"\n! {d.path} holds {h.said()}" for d in disks for h in d.holds]
            action = await w.form(
                f"{title} on a disk of {on}" + "".join(held),
                [Field("device", "Disk", first, choices=list(listed)), name],
                lambda v: sto.CreateBlockSr(
                    cache,
                    kind,
                    {"device": listed[v["device"]].path},
                    v["name"],
                    ref,
                    listed[v["device"]].holds,
                ),
            )
        else:
            typed = await w.form(
                f"{title} on a disk of {on} (it lists none: type the path)",
                [
                    Field(
                        "device", "Disk", "/dev/sdb", placeholder="/dev/sdX, never a software RAID"
                    ),
                    name,
                ],
                lambda v: sto.CreateBlockSr(
                    cache, kind, {"device": v["device"].strip()}, v["name"], ref
                ),
            )
            holds = await w.read(
                sto.disk_holds, conn, ref, typed.device, note="Probing the disk..."
            )
            action = sto.CreateBlockSr(cache, kind, typed.config, typed.name, ref, holds)
        await w.perform(action)

    return [host, disk]


def _nfs_steps(turn, kind: str) -> list:
    """The server (its exports probed), then the export, name and version;
    an SR the pool does not know already there is attached or added beside."""
    conn, found = turn.conn, {}

    async def server(w: Wizard) -> None:
        server = await w.form(
            "New NFS SR: which server?",
            [Field("server", "NFS server", "", problem_of(host_or_ip, "NFS server"))],
            lambda v: host_or_ip(v["server"], "NFS server"),
        )
        exports = await w.read(sto.exports_with_srs, conn, server)
        if not exports:
            raise InvalidInput([f"{server} exports nothing this pool may mount"])
        found.update(server=server, exports=exports)

    async def export(w: Wizard) -> None:
        server, exports = found["server"], found["exports"]
        action = await w.form(
            f"New NFS SR on {server} ({len(exports)} export(s))",
            sto.CreateNfsSr.fields(server, list(exports), {p: len(u) for p, u in exports.items()}),
            lambda v: sto.CreateNfsSr(conn.cache, server, v["path"], v["name"], v["version"]),
        )
        t = action.target
        unknown = sto.unknown_srs(conn.cache, exports.get(t.path, []))
        if unknown:  # an SR the pool does not know is there: bring it back, or add one beside it
            answer = await turn.app.push_screen_wait(
                ChoiceModal(
                    "An SR is already there",
                    f"{t.server}:{t.path} holds the SR {unknown[0]}, unknown to this pool "
                    "(forgotten, or another pool's). Attach it (its disks come back), or "
                    "create a new SR beside it?",
                    [("attach", "Attach it"), ("new", "New SR"), ("no", "Back")],
                )
            )
            if answer == "attach":
                action = sto.AttachExistingNfsSr(conn.cache, t, unknown[0], action.name)
            elif answer != "new":
                w.again()  # the form, as typed: another export
        await w.perform(action)

    return [server, export]


# the SR under the cursor ----------------------------------------------------------------
def _sr(turn) -> str | None:
    return turn.screen.selected() or None


def _on_sr(key: str, name: str, label: str, action, **kw) -> Act:
    """An act on the SR under the cursor that asks nothing before its plan;
    dimmed, saying why, on an SR it never applies to (an ISO library)."""
    return Act(
        key,
        name,
        label,
        builds=(action,),
        subject=_sr,
        missing="Choose an SR in the list.",
        build=lambda t: action(t.cache, t.subject),
        refuse=lambda s: action.refusal_on(s.conn.cache, s.selected()) if s.selected() else "",
        **kw,
    )


def _toggle_disks(screen) -> None:
    screen.show_disks = not screen.show_disks
    screen.draw_detail()


SR_HINT = (
    "* the default SR. n: new SR; a/d: attach/detach; f: forget; X: destroy; s: rescan;"
    " v: disks; w: alarms"
)


class StorageScreen(AreaScreen):
    AREA = "storage"
    ACTS = (
        Act(
            "n",
            "new_sr",
            "New SR",
            help="NFS, iSCSI, HBA or a host's local disk",
            builds=(sto.CreateNfsSr, sto.AttachExistingNfsSr, sto.CreateBlockSr),
            steps=_new_sr,
        ),
        _on_sr(
            "a",
            "attach",
            "Attach",
            sto.AttachSr,
            help="Attach the SR on the hosts where it is detached",
            operation=("sr", "plug"),
        ),
        _on_sr(
            "d",
            "detach",
            "Detach",
            sto.DetachSr,
            help="Detach the SR from every host",
            operation=("sr", "unplug"),
        ),
        _on_sr(
            "f",
            "forget",
            "Forget",
            sto.ForgetSr,
            show=False,
            help="The pool forgets the SR; its data stays on the storage",
        ),
        _on_sr(
            "X",
            "destroy",
            "Destroy",
            sto.DestroySr,
            show=False,
            help="Delete the SR and every disk on it",
        ),
        _on_sr(
            "D",
            "default",
            "Default SR",
            sto.SetDefaultSr,
            help="Make the SR the pool's default, suspend and crash-dump SR",
        ),
        Act(
            "M",
            "multipath",
            "Multipath",
            show=False,
            help="Enable multipathing on a host",
            builds=(sto.EnableMultipath,),
            title="Enable multipathing on a host",
            fields=lambda t: sto.EnableMultipath.fields(t.cache),
            build=lambda t: sto.EnableMultipath(t.cache, t.values["host"]),
        ),
        _on_sr(
            "s",
            "rescan",
            "Rescan",
            sto.RescanSr,
            show=False,
            help="Rescan the SR for disks made or deleted outside this pool",
            operation=("sr", "scan"),
        ),
        alarms_act(
            "w",
            "sr_alarms",
            "sr",
            perfmon.SetSrAlarms,
            _sr,
            "Choose an SR in the list.",
            show=False,  # the details' key line says it
            help="Space used and per-host I/O alarms of the SR (perfmon)",
        ),
        Act(
            "v",
            "disks",
            "Disks",
            show=False,
            help="Show or hide the selected SR's disks",
            view=_toggle_disks,
        ),
    )
    DRAWN_FROM = frozenset({"sr", "pbd", "vdi", "vbd", "vm", "pool", "host"})

    show_disks = False  # v: the selected SR's disks in the details

    def compose_body(self) -> ComposeResult:
        with Vertical():  # the keys docked at its bottom: above the footer
            yield RowList(COLUMNS, id="srs", markable=False)
            yield Static("", id="sr-detail")
            # the keys, which notices never cover (xstui.tcss)
            yield Static(SR_HINT, id="sr-hint", classes="screen-hint", markup=False)

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
        self.refresh_bindings()  # the keys follow the SR under the cursor (attached, ISO)

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
            names = [f"{n} ({p.lower()})" for n, p in detail.vms]
            text.append(
                ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
                or "none"
            )
            if self.show_disks:
                text.append("\nDisks on it, virtual size (v hides them): ", style="bold")
                text.append(
                    ", ".join(f"{n} {size(vs)}" for n, vs, _ in detail.vdis[:10])
                    + (f" and {len(detail.vdis) - 10} more" if len(detail.vdis) > 10 else "")
                    or "none"
                )
        state = sto.multipath_state(self.conn.cache)
        on = [n for n, yes in sorted(state.items()) if yes]
        text.append("\nMultipathing: ", style="bold")
        text.append(f"on for {', '.join(on)}" if on else "off on every host (M turns it on)")
        self.query_one("#sr-detail", Static).update(text)

    def selected(self) -> str:
        return self.query_one(RowList).cursor_key or ""

    def targets(self, cls: str) -> list[str]:
        return [self.selected()] if cls == "sr" and self.selected() else []
