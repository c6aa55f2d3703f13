"""The one way xstui writes a file: atomically.

The content goes to a temporary file in the target's folder, which is
flushed and fsynced, then renamed over the target, and the folder is fsynced:
a crash or a failure mid-write leaves the old file as it was and no temporary
file behind. Files are the owner's only (0600) unless the caller asks for
another mode; missing folders are made the owner's only (0700)."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path
from typing import IO

PRIVATE = 0o600


@contextmanager
def atomic_open(path: Path, mode: int = PRIVATE, *, exclusive: bool = False) -> Iterator[IO[bytes]]:
    """A binary temporary file to write ``path``'s new content into (as it arrives:
    large downloads); it becomes ``path`` when the block ends without an
    exception, and is removed otherwise. ``exclusive``: never over an existing
    file (FileExistsError, the temporary file removed). Raises OSError."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        if exclusive:
            os.link(tmp, path)  # fails when path exists, atomically
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def partial_files(path: Path) -> list[Path]:
    """The temporary files :func:`atomic_open` left for ``path`` (a process
    killed while it wrote: the only way one stays)."""
    path = Path(path)
    try:
        return sorted(path.parent.glob(f".{glob_escape(path.name)}.*.tmp"))
    except OSError:
        return []


def write_atomic(
    path: Path, data: bytes | str, mode: int = PRIVATE, *, exclusive: bool = False
) -> None:
    """Write ``data`` (bytes, or text as UTF-8) as ``path``'s whole content,
    atomically (see :func:`atomic_open`). Raises OSError."""
    if isinstance(data, str):
        data = data.encode()
    with atomic_open(path, mode, exclusive=exclusive) as out:
        out.write(data)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # a file system that cannot sync folders
            raise
    finally:
        os.close(fd)
