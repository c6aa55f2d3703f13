"""An HTTP transfer that XAPI reports on through a task (``task_id=``): its
progress drives the bar, and its failure is XAPI's error, in words."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ...xapi.config import safe_stem
from ...xapi.connection import ConnectionLost, XapiFailure
from ...xapi.transfer import TransferCancelled, TransferFailed, TransferUnanswered, download
from .. import validate as v
from ..actions import Cancelled, InvalidInput, OutcomeUnknown, RunContext, TaskFailed
from ..fields import HERE, Field, problem_of


def backup_folder() -> Path:
    """Where backups go unless the admin says otherwise: $XSTUI_BACKUP_DIR,
    else ~/xstui-backups."""
    return Path(os.environ.get("XSTUI_BACKUP_DIR") or Path.home() / "xstui-backups")


def save_to(label: str, suffix: str) -> Field:
    """The "Save to" field of a backup: a new file named after what is saved
    and when, in the backup folder (made only once the admin confirms)."""
    stem = f"{safe_stem(label)}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}"
    return Field("path", f"Save to ({HERE})", str(backup_folder() / stem), problem_of(new_file))


def new_file(text: str) -> Path:
    """The file a backup is written to (its full path): in a folder the
    console may write to, or the backup folder to be made, and not there yet
    (a backup never overwrites)."""
    return v.file_to_save(
        text,
        overwrite=False,
        instead="choose another name (backups never overwrite)",
        made_in=backup_folder(),
    )


def to_make(folder: Path) -> list[str]:
    """A plan's step for the folders to make first ([] when it is there)."""
    missing = v.missing_folders(folder)
    return [f"make the folder {missing[-1]} (yours only, 0700)"] if missing else []


def writable(dest: Path) -> None:
    """The file can be made where it goes, tried for real before anything is
    asked of the host (the form's check reads permissions, which a read-only
    or special file system may contradict); its folder is made first when it
    is not there yet (the admin has confirmed the plan that says so)."""
    try:
        for folder in v.missing_folders(dest.parent):  # each one yours only
            folder.mkdir(mode=0o700, exist_ok=True)
        with tempfile.TemporaryFile(dir=dest.parent):
            pass
    except OSError as exc:
        raise InvalidInput(
            [f"{dest} cannot be written ({exc.strerror or exc}): nothing was transferred"]
        ) from None


def with_task(ctx: RunContext, label: str, transfer: Callable[[str], object]):
    """Create a task, run ``transfer(task_ref)``, then take XAPI's verdict
    from the task as the event stream brings it (a transfer can end cleanly
    on the wire and still have failed on the host)."""
    conn = ctx.conn
    task = ctx.call("task.create", label, "xstui")
    try:
        try:
            result = transfer(task)
        except TransferCancelled as exc:
            raise Cancelled(str(exc)) from None
        except TransferUnanswered as exc:
            # the host may have acted: its task says, if it still knows it
            status, error = _verdict(conn, task, FAILED_SECONDS)
            if status == "success":
                return None
            _raise_failure(error, but=("TASK_CANCELLED",))
            raise OutcomeUnknown(str(exc)) from None
        except TransferFailed:
            # the host's reason when it had one; its "cancelled" only echoes the break
            _raise_failure(_verdict(conn, task, FAILED_SECONDS)[1], but=("TASK_CANCELLED",))
            raise
        _raise_failure(_verdict(conn, task, VERDICT_SECONDS)[1])
        return result
    finally:
        try:
            conn.call("task.destroy", task)
        except (XapiFailure, ConnectionLost):
            pass  # the host forgets finished tasks by itself


def task_result(conn, task: str) -> str:
    """The result of the task the host closes at the end of a transfer (an
    import's VM refs, as XML-RPC text), once closed; '' when it failed or
    did not close in time (with_task says which)."""
    status, _error = _verdict(conn, task, VERDICT_SECONDS)
    rec = conn.cache.get("task", task)
    return rec.result if rec is not None and status == "success" else ""


VERDICT_SECONDS = 10  # the host closes the task just after the last byte
FAILED_SECONDS = 5  # after a broken transfer: a reason, if the host has one


def _verdict(conn, task: str, seconds: float) -> tuple[str, list[str]]:
    """The task's status and error once the host has closed it ("" and []
    when no verdict came in time). A dropped connection is waited out: the
    resync after it brings the task's record too."""

    def closed() -> bool:
        rec = conn.cache.get("task", task)
        return rec is not None and rec.status != "pending"

    conn.cache.wait_for(closed, seconds)
    rec = conn.cache.get("task", task)
    if rec is None or rec.status == "pending":
        return "", []
    return rec.status, list(rec.error_info) if rec.status in ("failure", "cancelled") else []


def _raise_failure(error: list[str], but: tuple[str, ...] = ()) -> None:
    if error and error[0] not in but:
        raise TaskFailed(XapiFailure(error))


def fetch(
    ctx: RunContext,
    label: str,
    path: str,
    query: dict,
    dest: Path,
    span=(0.0, 1.0),
    host: str = "",
    tap: Callable[[bytes], object] = lambda block: None,
):
    """Download with a task (from ``host`` rather than the master if given):
    the bar follows XAPI's progress for the task (the size of what comes is
    not known before it ends); ``tap`` sees each block as it comes (see
    download); the bytes written."""
    writable(dest)
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
            tap=tap,
            host=host,
        )

    ctx.leftover("file", str(dest), f"the partial download of {dest.name}")
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
    finally:  # the temporary file became the file, or went with the failure
        ctx.tidied(str(dest))
