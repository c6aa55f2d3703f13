"""The one atomic writer: content and mode, nothing left of a failed write,
the old file untouched."""

import os
import stat

import pytest

from xstui.files import atomic_open, write_atomic


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_bytes_and_text_private_by_default_or_the_mode_asked(tmp_path):
    write_atomic(tmp_path / "new/a.bin", b"\x00\x01")
    write_atomic(tmp_path / "b.txt", "héllo\n", 0o644)
    assert (tmp_path / "new/a.bin").read_bytes() == b"\x00\x01"
    assert mode(tmp_path / "new/a.bin") == 0o600 and mode(tmp_path / "new") == 0o700
    assert (tmp_path / "b.txt").read_text() == "héllo\n" and mode(tmp_path / "b.txt") == 0o644
    write_atomic(tmp_path / "b.txt", "again")  # over an existing file: its new mode too
    assert (tmp_path / "b.txt").read_text() == "again" and mode(tmp_path / "b.txt") == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt", "new"]


def test_a_failure_mid_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "journal.json"
    write_atomic(target, "old", 0o640)
    with pytest.raises(OSError, match="disk full"):
        with atomic_open(target) as out:
            out.write(b"half of the new")
            raise OSError(28, "disk full")
    assert target.read_text() == "old" and mode(target) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]


def test_a_streamed_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "vm.xva"
    with atomic_open(target) as out:
        for chunk in (b"a" * 10, b"b" * 10):
            out.write(chunk)
            assert not target.exists()
    assert target.read_bytes() == b"a" * 10 + b"b" * 10 and mode(target) == 0o600


def test_exclusive_never_replaces_and_leaves_nothing(tmp_path):
    key = tmp_path / "host.key"
    write_atomic(key, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        write_atomic(key, b"second", exclusive=True)
    assert key.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["host.key"]
