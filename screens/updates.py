"""The Patching screen: one model over the API's generations. Each host with
what it has applied, what it lacks and what guidance waits (the master
first); under it the selected host's details, the pool's updates, the last
precheck and the baseline's drift. Upload, precheck, apply to a host or the
pool, clean up, sync (XenServer 8), and the resumable rolling pool update."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
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
from xstui.widgets.flow import read
from xstui.widgets.form import FormModal
from xstui.widgets.notice import notify_error
from xstui.widgets.rowlist import RowList
from xstui.xapi import views

from .act import Act
from .base import AreaScreen

COLUMNS = [("Host", 14), ("Has", 4), ("Lacks", 20), ("Guidance pending", 20), ("State", 9)]
MAX_ROWS = 9  # host rows shown at once (more scroll)
STILL_READING = "Still reading what this pool's API offers."
READING = "Reading what this pool's API offers..."
MODEL_WAIT = 30  # seconds an action waits for the first read of the pool's API


def _no_such_step(step: str):
    """The key's refusal where this pool's way of taking hotfixes has no
    such step (known once the generation is read)."""

    def refuse(screen) -> str:
        return screen.generation.refusal(step) if screen.generation is not None else ""

    return refuse


def _lacks(names) -> str:
    if not names:
        return "-"
    return names[0] if len(names) == 1 else f"{names[0]} +{len(names) - 1}"


# what the acts act on -------------------------------------------------------------------
async def _model_read(turn) -> None:
    """An action pressed while the pool's API is first read (the area just
    shown, from the palette) waits for the read instead of being lost."""
    screen = turn.screen
    if not screen.model_read.is_set():
        await read(turn.app, screen.model_read.wait, MODEL_WAIT, note=READING)


def _view(turn) -> UpdatesView | None:
    """The pool's updates as read (None until the API's generation is known)."""
    return turn.screen.view()


def _host_view(turn):
    """(view, the host under the cursor)."""
    view = turn.screen.view()
    host = view.host(turn.screen.selected()) if view is not None else None
    return (view, host) if host is not None else None


def _lacking(view: UpdatesView) -> list[str]:
    """The uploaded updates some host lacks."""
    return [u.name for u in view.updates if u.uploaded and len(u.applied_on) < len(view.hosts)]


def _which(names: list[str]) -> list[Field]:
    """Which update: asked only when there is a choice."""
    return [Field("name", "Update", names[0], choices=names)] if len(names) > 1 else []


def _none(what: str) -> InvalidInput:
    return InvalidInput([f"{what}: no update to choose from"])


def _picked(turn, names: list[str], what: str) -> str:
    """The update chosen in the form, or the only one; refused in words when none."""
    if not names:
        raise _none(what)
    return turn.values.get("name") or names[0]


def _missing_on(turn) -> list[str]:
    view, host = turn.subject
    return [] if view.generation.lists_missing else list(host.missing)


def _apply(turn) -> upd.ApplyUpdate:
    view, host = turn.subject
    name = ""
    if not view.generation.lists_missing:
        name = _picked(turn, _missing_on(turn), f"Apply which update on {host.name}?")
    return upd.ApplyUpdate(view, name, host.ref)


def _uploaded(view: UpdatesView) -> list[str]:
    return [u.name for u in view.updates if u.uploaded]


def _upload_fields(turn) -> list[Field]:
    """The update files found (the folders of XSTUI_UPDATE_DIR, the backup
    folder, the working folder): a read of the disk, in a thread."""
    folders = [Path(p) for p in os.environ.get("XSTUI_UPDATE_DIR", "").split(":") if p]
    files = upd.candidate_files([*folders, backup_folder(), Path.cwd()])
    return upd.UploadUpdate.fields(turn.cache, files, turn.subject.generation)


async def _changed(turn) -> None:
    turn.screen.after_change()


async def _synced(turn) -> None:
    turn.screen.read_model()


async def _rolled(turn) -> None:
    turn.screen.after_change()
    turn.screen.refresh_view()


async def _precheck(turn) -> None:
    """A read only (XAPI's own checks): the verdicts are shown under the hosts."""
    screen, view = turn.screen, turn.subject
    if view.generation.lists_missing:
        name = ""
        hosts = [h.ref for h in view.hosts]
    else:
        name = await _pick(turn, "Precheck which update?", _lacking(view))
        if name is None:
            return
        hosts = [h.ref for h in view.hosts if name not in h.applied]
    verdicts = await read(
        turn.app, upd.precheck, turn.conn, view, name, hosts, note="Prechecking..."
    )
    if verdicts is not None:
        screen.verdicts, screen.verdict_of = verdicts, name or "the pool"
        bad = sum(1 for v in verdicts if not v.ok)
        turn.app.notify(
            f"Precheck: {len(verdicts) - bad} passed, {bad} failed (details below the hosts).",
            severity="warning" if bad else "information",
            timeout=6,
        )
        screen.refresh_view()


async def _pick(turn, title: str, names: list[str]) -> str | None:
    """Which update, for a read (not an Action): asked only when there is a choice."""
    if not names:
        notify_error(turn.app, _none(title))
        return None
    if len(names) == 1:
        return names[0]
    return await turn.app.push_screen_wait(FormModal(title, _which(names), lambda v: v["name"]))


async def _baseline(turn) -> None:
    screen = turn.screen
    default = screen.baseline.source if screen.baseline else str(backup_folder() / "baseline.yaml")

    def check(values):
        try:
            return load(values["path"].strip())
        except BaselineError as exc:
            raise InvalidInput([str(exc)]) from None

    baseline = await turn.app.push_screen_wait(
        FormModal(
            "Compliance baseline (YAML: require, allow, hosts)",
            [Field("path", "Baseline file", default)],
            check,
        )
    )
    if baseline is not None:
        screen.baseline = baseline
        screen.refresh_view()


class UpdatesScreen(AreaScreen):
    AREA = "updates"
    ACTS = (
        Act(
            "u",
            "upload",
            "Upload",
            help="Upload an update file to the pool",
            builds=(upd.UploadUpdate,),
            refuse=_no_such_step("upload"),
            ready=_model_read,
            subject=_view,
            missing=STILL_READING,
            read=_upload_fields,
            title="Upload an update file",
            fields=lambda t: t.data,
            build=lambda t: upd.UploadUpdate(
                t.cache, t.subject, t.values["path"], t.values.get("sr", "")
            ),
        ),
        Act(
            "p",
            "precheck",
            "Precheck",
            help="XAPI's own checks of an update on the hosts that lack it",
            ready=_model_read,
            subject=_view,
            missing=STILL_READING,
            steps=_precheck,
        ),
        Act(
            "a",
            "apply",
            "Apply",
            help="Apply an update on the host under the cursor",
            builds=(upd.ApplyUpdate,),
            ready=_model_read,
            subject=_host_view,
            missing=STILL_READING,
            title=lambda t: f"Apply which update on {t.subject[1].name}?",
            fields=lambda t: _which(_missing_on(t)),
            build=_apply,
            after=_changed,
        ),
        Act(
            "P",
            "pool_apply",
            "Pool apply",
            show=False,
            help="Apply an update on every host",
            builds=(upd.ApplyToPool,),
            refuse=_no_such_step("pool_apply"),
            ready=_model_read,
            subject=_view,
            missing=STILL_READING,
            title="Apply which update to the pool?",
            fields=lambda t: _which(_lacking(t.subject)),
            build=lambda t: upd.ApplyToPool(
                t.subject, _picked(t, _lacking(t.subject), "Apply which update to the pool?")
            ),
        ),
        Act(
            "c",
            "clean",
            "Clean up",
            show=False,
            help="Remove an update's files from the pool",
            builds=(upd.CleanUpdate,),
            refuse=_no_such_step("clean"),
            ready=_model_read,
            subject=_view,
            missing=STILL_READING,
            title="Remove the files of which update?",
            fields=lambda t: _which(_uploaded(t.subject)),
            build=lambda t: upd.CleanUpdate(
                t.subject, _picked(t, _uploaded(t.subject), "Remove the files of which update?")
            ),
        ),
        Act(
            "s",
            "sync",
            "Sync",
            show=False,
            help="Synchronise the pool's update repositories (XenServer 8)",
            builds=(upd.SyncUpdates,),
            refuse=_no_such_step("sync"),
            ready=_model_read,
            subject=_view,
            missing=STILL_READING,
            build=lambda t: upd.SyncUpdates(t.cache, t.subject),
            after=_synced,
        ),
        Act(
            "R",
            "rolling",
            "Rolling update",
            help="Update host by host, the master first; resumable",
            builds=(RollingUpdate,),
            ready=_model_read,
            subject=_view,
            missing=STILL_READING,
            read=lambda t: prepare(t.conn, t.subject),
            reading="Checking what keeps VMs on each host...",
            title=lambda t: RollingUpdate.question(t.data),
            fields=lambda t: RollingUpdate.fields(t.data),
            build=lambda t: RollingUpdate(t.cache, t.data, t.values.get("blocked", "refuse")),
            after=_rolled,
        ),
        Act(
            "b",
            "baseline",
            "Baseline",
            help="Load a compliance baseline (YAML) to compare the hosts with",
            connection=False,
            ready=_model_read,
            subject=_view,
            missing=STILL_READING,
            steps=_baseline,
        ),
        Act(
            "r",
            "reread",
            "Refresh",
            show=False,
            help="Read the pool's updates again",
            view=lambda s: s.read_model(said=True),
        ),
    )
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
        self.model_read = threading.Event()  # set once the first read is drawn (or failed)

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
    def read_model(self, said: bool = False) -> None:
        """The generation (system.listMethods, once) and, on XenServer 8, the
        list of what each host lacks: calls, so in a thread. ``said``: the
        key pressed, which says it read, or why not."""
        conn = self.conn
        if conn is None or conn.state != "connected":
            if said:
                self.app.notify("Refresh: not connected.", severity="warning", timeout=6)
            return
        generation = document = None
        problem = ""
        try:
            generation = detect(conn)
            document = read_document(conn, generation)
        except Exception as exc:  # no repository, not synced, connection gone: said on screen
            problem = str(exc)
        self.app.call_from_thread(self._got_model, generation, document, problem)
        if said:
            self.app.notify(
                f"Not read: {problem}" if problem else "Updates read again.",
                severity="warning" if problem else "information",
                timeout=8 if problem else 4,
            )

    def _got_model(self, generation, document, problem: str) -> None:
        if generation is not None or self.generation is None:
            self.generation, self.document = generation, document
        self.read_problem = problem
        self.model_read.set()
        self.refresh_view()
        self.refresh_bindings()  # the keys follow the pool's way of taking hotfixes

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
                head.update(READING)
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
    def selected(self) -> str:
        return self.query_one(RowList).cursor_key or ""

    def after_change(self) -> None:
        if self.generation is not None and self.generation.lists_missing:
            self.read_model()
