"""An HTTP transfer that XAPI reports on through a task (``task_id=``): its
progress drives the bar, and its failure is XAPI's error, in words."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from ...xapi.connection import ConnectionLost, XapiFailure
from ...xapi.transfer import TransferCancelled, TransferFailed, download
from ..actions import Cancelled, RunContext, TaskFailed


def backup_folder() -> Path:
    """Where backups go unless the admin says otherwise: $XSTUI_BACKUP_DIR,
    else ~/xstui-backups."""
    return Path(os.environ.get("XSTUI_BACKUP_DIR") or Path.home() / "xstui-backups")


def with_task(ctx: RunContext, label: str, transfer: Callable[[str], object]):
    """Create a task, run ``transfer(task_ref)``, then take XAPI's verdict
    from the task (a transfer can end cleanly on the wire and still have
    failed on the host)."""
    conn = ctx.conn
    task = ctx.call("task.create", label, "xstui")
    try:
        try:
            result = transfer(task)
        except TransferCancelled as exc:
            raise Cancelled(str(exc)) from None
        except TransferFailed:
            # the host's reason when it had one; its "cancelled" only echoes the break
            _raise_task_failure(conn, task, but=("TASK_CANCELLED",))
            raise
        deadline = time.monotonic() + 10
        while _status(conn, task) == "pending" and time.monotonic() < deadline:
            time.sleep(0.1)  # the host closes the task just after the last byte
        _raise_task_failure(conn, task)
        return result
    finally:
        try:
            conn.call("task.destroy", task)
        except (XapiFailure, ConnectionLost):
            pass  # the host forgets finished tasks by itself


def _status(conn, task: str) -> str:
    try:
        return conn.call("task.get_status", task)
    except (XapiFailure, ConnectionLost):
        return "unknown"


def _raise_task_failure(conn, task: str, but: tuple[str, ...] = ()) -> None:
    try:
        record = conn.call("task.get_record", task)
    except (XapiFailure, ConnectionLost):
        return
    error = list(record.get("error_info") or [])
    if record.get("status") in ("failure", "cancelled") and error and error[0] not in but:
        raise TaskFailed(XapiFailure(error))


def fetch(
    ctx: RunContext,
    label: str,
    path: str,
    query: dict,
    dest: Path,
    span=(0.0, 1.0),
    host: str = "",
):
    """Download with a task (from ``host`` rather than the master if given):
    the bar follows XAPI's progress for the task (the size of what comes is
    not known before it ends); the bytes written."""
    low, high = span

    def run(task: str) -> int:
        def progress(done: int) -> None:
            rec = ctx.conn.cache.get("task", task)
            if rec is not None:
                ctx.progress(low + (high - low) * rec.progress)
            ctx.note(f"{done / (1 << 20):.0f} MiB received")

        return download(
            ctx.conn,
            path,
            {**query, "task_id": task},
            dest,
            progress=progress,
            cancel=ctx.cancel,
            host=host,
        )

    try:
        return with_task(ctx, label, run)
    except TaskFailed as exc:
        # the file may be complete on the wire (a stream ends when the host
        # closes it) yet failed on the host: it is not kept
        dest.unlink(missing_ok=True)
        if exc.failure.code == "TASK_CANCELLED" and not ctx.cancel.is_set():
            raise TransferFailed(
                "the transfer broke (the host saw the connection go); the partial file was removed"
            ) from None
        raise
