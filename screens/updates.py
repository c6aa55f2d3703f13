"""The Patching screen: one model over the API's generations. Each host with
what it has applied, what it lacks and what guidance waits (the master
first); under it the selected host's details, the pool's updates, the last
precheck and the baseline's drift. Upload, precheck, apply to a host or the
pool, clean up, sync (XenServer 8), and the resumable rolling pool update."""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from xstui.services.actions import InvalidInput
from xstui.services.backup.transfers import backup_folder
from xstui.services.fields import Field
from xstui.services.updates import actions as upd
from xstui.services.updates.baseline import BaselineError, drift, load
from xstui.services.updates.generation import detect
from xstui.services.updates.guidance import explain
from xstui.services.updates.model import UpdatesView, build, read_document
from xstui.services.updates.rolling import Journal, RollingUpdate, host_uuid, prepare
from xstui.services.values import size
from xstui.widgets.flow import ask, connected, perform, read
from xstui.widgets.form import FormModal
from xstui.widgets.notice import notify_error
from xstui.widgets.rowlist import RowList
from xstui.xapi import views

from .base import AreaScreen, requires

COLUMNS = [("Host", 14), ("Has", 4), ("Lacks", 20), ("Guidance pending", 20), ("State", 9)]
MAX_ROWS = 9  # host rows shown at once (more scroll)


def _lacks(names) -> str:
    if not names:
        return "-"
    return names[0] if len(names) == 1 else f"{names[0]} +{len(names) - 1}"


class UpdatesScreen(AreaScreen):
    BINDINGS = [
        Binding("u", "upload", "Upload", id="updates.upload"),
        Binding("p", "precheck", "Precheck", id="updates.precheck"),
        Binding("a", "apply", "Apply", id="updates.apply"),
        Binding("P", "pool_apply", "Pool apply", id="updates.pool_apply", show=False),
        Binding("c", "clean", "Clean up", id="updates.clean", show=False),
        Binding("s", "sync", "Sync", id="updates.sync", show=False),
        Binding("R", "rolling", "Rolling update", id="updates.rolling"),
        Binding("b", "baseline", "Baseline", id="updates.baseline"),
        Binding("r", "reread", "Refresh", id="updates.reread", show=False),
    ]
    DEFAULT_CSS = """
    UpdatesScreen #updates-head { height: auto; padding: 0 1; }
    UpdatesScreen #updates-detail-scroll { height: 1fr; }
    UpdatesScreen #updates-detail { padding: 0 1; }
    """
    DRAWN_FROM = frozenset(
        {"host", "host_metrics", "pool", "pool_patch", "host_patch", "pool_update", "repository"}
    )

    def __init__(self, area) -> None:
        super().__init__(area)
        self.generation = None
        self.document: dict | None = None  # XenServer 8: GET /updates
        self.verdicts: list[upd.Verdict] = []
        self.verdict_of = ""
        self.baseline = None
        self.baseline_problem = ""
        self.read_problem = ""  # why the pool's way or its list could not be read

    def compose_body(self) -> ComposeResult:
        yield Static("", id="updates-head")
        yield RowList(COLUMNS, id="update-hosts", markable=False)
        with VerticalScroll(id="updates-detail-scroll"):
            yield Static("", id="updates-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RowList).focus()
        self.read_model()

    @work(thread=True, exit_on_error=False, group="updates-read", description="updates")
    def read_model(self) -> None:
        """The generation (system.listMethods, once) and, on XenServer 8, the
        list of what each host lacks: calls, so in a thread."""
        conn = self.conn
        if conn is None or conn.state != "connected":
            return
        generation = document = None
        problem = ""
        try:
            generation = detect(conn)
            document = read_document(conn, generation)
        except Exception as exc:  # no repository, not synced, connection gone: said on screen
            problem = str(exc)
        self.app.call_from_thread(self._got_model, generation, document, problem)

    def _got_model(self, generation, document, problem: str) -> None:
        if generation is not None or self.generation is None:
            self.generation, self.document = generation, document
        self.read_problem = problem
        self.refresh_view()

    # drawing -------------------------------------------------------------------------
    def view(self) -> UpdatesView | None:
        if self.generation is None:
            return None
        return build(self.conn.cache, self.generation, self.document)

    def refresh_view(self, classes=None) -> None:
        if not self.drawable(classes):
            return
        view = self.view()
        head = self.query_one("#updates-head", Static)
        if view is None:
            if self.read_problem:
                head.update(Text(f"!! {self.read_problem} (r reads again)", style="bold"))
            else:
                head.update("Reading what this pool's API offers...")
            return
        text = Text()
        text.append(view.generation.title, style="bold")
        text.append(f": {view.generation.how}")
        problem = self.read_problem or view.problem
        if problem:
            text.append(f"\n!! {problem}", style="bold")
        head.update(text)
        journal = self._journal()
        drifts = self._drift(view)
        rows = []
        for h in view.hosts:
            rolling = ""
            uuid = host_uuid(self.conn.cache, h.ref)
            if journal is not None and uuid in journal.data["hosts"]:
                rolling = journal.progress(uuid)
            elif h.ref in drifts:
                rolling = "drift" if not drifts[h.ref].compliant else "ok"
            rows.append(
                (
                    h.ref,
                    (
                        h.name + (" (M)" if h.is_master else "") + ("" if h.live else " down"),
                        str(len(h.applied)),
                        _lacks(h.missing),
                        ",".join(h.pending) or "-",
                        rolling,
                    ),
                )
            )
        hosts = self.query_one(RowList)
        hosts.set_rows(rows)
        hosts.styles.height = min(len(rows) + 1, MAX_ROWS)  # the details get the rest
        self.draw_detail(view, drifts, journal)

    @on(RowList.Moved)
    def _moved(self) -> None:
        view = self.view()
        if view is not None:
            self.draw_detail(view, self._drift(view), self._journal())

    def draw_detail(self, view: UpdatesView, drifts, journal) -> None:
        ref = self.query_one(RowList).cursor_key
        h = view.host(ref) if ref else None
        text = Text()
        if h is not None:
            text.append(f"{h.name}", style="bold")
            text.append(f" ({'enabled' if h.enabled else 'disabled'})")
            text.append("\nLacks: ", style="bold")
            text.append(", ".join(h.missing) or "nothing")
            for g in h.pending:
                text.append(f"\nPending {g}: ", style="bold")
                text.append(explain(g))
            d = drifts.get(h.ref)
            if d is not None and not d.compliant:
                text.append("\nDrift: ", style="bold")
                parts = []
                if d.missing:
                    parts.append(f"missing {', '.join(d.missing)}")
                if d.unexpected:
                    parts.append(f"not allowed {', '.join(d.unexpected)}")
                text.append("; ".join(parts))
        if self.baseline is not None:
            text.append("\nBaseline: ", style="bold")
            text.append(f"{self.baseline.source} (State: ok or drift, b loads another)")
        if self.baseline_problem:
            text.append(f"\n!! {self.baseline_problem}", style="bold")
        if self.verdicts:
            text.append(f"\nPrecheck of {self.verdict_of}:", style="bold")
            for v in self.verdicts:
                text.append(f"\n{'ok ' if v.ok else '!! '}{v.host}: {v.text}")
        if journal is not None:
            text.append("\nRolling update ", style="bold")
            text.append(f"started {journal.data['started']} is unfinished: R continues it.")
        text.append("\nUpdates in the pool:", style="bold")
        total = len(view.hosts)
        for u in view.updates:
            files = "" if u.uploaded else ", files cleaned"
            where = f"on {len(u.applied_on)}/{total}"
            guide = ",".join(u.guidance) or "no guidance"
            sz = f", {size(u.size)}" if u.size else ""
            text.append(f"\n  {u.name}: {where}, {guide}{sz}{files}")
        if not view.updates:
            text.append(" none known")
        self.query_one("#updates-detail", Static).update(text)

    def _journal(self) -> Journal | None:
        pool = views.pool(self.conn.cache)
        return Journal.load(pool.uuid) if pool is not None else None

    def _drift(self, view: UpdatesView) -> dict:
        if self.baseline is None:
            return {}
        pool = views.pool(self.conn.cache)
        try:
            found = drift(self.baseline, view, pool.name_label if pool else "")
        except BaselineError as exc:
            self.baseline_problem = str(exc)
            return {}
        self.baseline_problem = ""
        by_name = {h.name: h.ref for h in view.hosts}
        return {by_name[d.host]: d for d in found}

    # helpers -------------------------------------------------------------------------
    def _selected(self) -> str:
        return self.query_one(RowList).cursor_key or ""

    def _ready(self) -> UpdatesView | None:
        if not connected(self.app):
            return None
        view = self.view()
        if view is None:
            self.app.notify("Still reading what this pool's API offers.", timeout=4)
        return view

    async def _pick(self, title: str, names: list[str]) -> str | None:
        if not names:
            notify_error(self.app, InvalidInput([f"{title}: no update to choose from"]))
            return None
        if len(names) == 1:
            return names[0]
        return await self.app.push_screen_wait(
            FormModal(
                title, [Field("name", "Update", names[0], choices=names)], lambda v: v["name"]
            )
        )

    def _after_change(self) -> None:
        if self.generation is not None and self.generation.lists_missing:
            self.read_model()

    # actions -------------------------------------------------------------------------
    @requires(upd.UploadUpdate)
    @work(exit_on_error=False, group="action", description="upload")
    async def action_upload(self) -> None:
        view = self._ready()
        if view is None:
            return
        cache = self.conn.cache
        folders = [Path(p) for p in os.environ.get("XSTUI_UPDATE_DIR", "").split(":") if p]
        files = upd.candidate_files([*folders, backup_folder(), Path.cwd()])
        try:
            fields = upd.UploadUpdate.fields(cache, files, view.generation)
        except InvalidInput as exc:
            notify_error(self.app, exc)
            return
        action = await ask(
            self.app,
            "Upload an update file",
            fields,
            lambda v: upd.UploadUpdate(cache, view, v["path"], v.get("sr", "")),
        )
        if action is not None:
            await perform(self.app, action)

    @work(exit_on_error=False, group="action", description="precheck")
    async def action_precheck(self) -> None:
        view = self._ready()
        if view is None:
            return
        if view.generation.lists_missing:
            name = ""
            hosts = [h.ref for h in view.hosts]
        else:
            lacking = [
                u.name for u in view.updates if u.uploaded and len(u.applied_on) < len(view.hosts)
            ]
            name = await self._pick("Precheck which update?", lacking)
            if name is None:
                return
            hosts = [h.ref for h in view.hosts if name not in h.applied]
        verdicts = await read(
            self.app, upd.precheck, self.conn, view, name, hosts, note="Prechecking..."
        )
        if verdicts is not None:
            self.verdicts, self.verdict_of = verdicts, name or "the pool"
            bad = sum(1 for v in verdicts if not v.ok)
            self.app.notify(
                f"Precheck: {len(verdicts) - bad} passed, {bad} failed (details below the hosts).",
                severity="warning" if bad else "information",
                timeout=6,
            )
            self.refresh_view()

    @requires(upd.ApplyUpdate)
    @work(exit_on_error=False, group="action", description="apply")
    async def action_apply(self) -> None:
        view = self._ready()
        if view is None:
            return
        host = view.host(self._selected())
        if host is None:
            return
        name = ""
        if not view.generation.lists_missing:
            name = await self._pick(f"Apply which update on {host.name}?", list(host.missing))
            if name is None:
                return
        action = await ask(self.app, "", [], lambda _: upd.ApplyUpdate(view, name, host.ref))
        if action is not None and await perform(self.app, action):
            self._after_change()

    @requires(upd.ApplyToPool)
    @work(exit_on_error=False, group="action", description="pool apply")
    async def action_pool_apply(self) -> None:
        view = self._ready()
        if view is None:
            return
        lacking = [
            u.name for u in view.updates if u.uploaded and len(u.applied_on) < len(view.hosts)
        ]
        name = await self._pick("Apply which update to the pool?", lacking)
        if name is None:
            return
        action = await ask(self.app, "", [], lambda _: upd.ApplyToPool(view, name))
        if action is not None:
            await perform(self.app, action)

    @requires(upd.CleanUpdate)
    @work(exit_on_error=False, group="action", description="clean")
    async def action_clean(self) -> None:
        view = self._ready()
        if view is None:
            return
        name = await self._pick(
            "Remove the files of which update?", [u.name for u in view.updates if u.uploaded]
        )
        if name is None:
            return
        action = await ask(self.app, "", [], lambda _: upd.CleanUpdate(view, name))
        if action is not None:
            await perform(self.app, action)

    @requires(upd.SyncUpdates)
    @work(exit_on_error=False, group="action", description="sync")
    async def action_sync(self) -> None:
        view = self._ready()
        if view is None:
            return
        cache = self.conn.cache
        action = await ask(self.app, "", [], lambda _: upd.SyncUpdates(cache, view))
        if action is not None and await perform(self.app, action):
            self.read_model()

    @requires(RollingUpdate)
    @work(exit_on_error=False, group="action", description="rolling update")
    async def action_rolling(self) -> None:
        view = self._ready()
        if view is None:
            return
        prep = await read(
            self.app, prepare, self.conn, view, note="Checking what keeps VMs on each host..."
        )
        if prep is None:
            return
        cache = self.conn.cache
        action = await ask(
            self.app,
            RollingUpdate.question(prep),
            RollingUpdate.fields(prep),
            lambda v: RollingUpdate(cache, prep, v.get("blocked", "refuse")),
        )
        if action is not None:
            await perform(self.app, action)
            self._after_change()
            self.refresh_view()

    @work(exit_on_error=False, group="action", description="baseline")
    async def action_baseline(self) -> None:
        if self.view() is None:
            return
        default = self.baseline.source if self.baseline else str(backup_folder() / "baseline.yaml")

        def check(values):
            try:
                return load(values["path"].strip())
            except BaselineError as exc:
                raise InvalidInput([str(exc)]) from None

        baseline = await self.app.push_screen_wait(
            FormModal(
                "Compliance baseline (YAML: require, allow, hosts)",
                [Field("path", "Baseline file", default)],
                check,
            )
        )
        if baseline is not None:
            self.baseline = baseline
            self.refresh_view()

    def action_reread(self) -> None:
        self.read_model()
