"""Reliability: inputs that are small on disk and huge once read. A VM
metadata file that decompresses to gigabytes, YAML files (config, baseline,
scenario) that are too large, nested thousands deep, multiplied by aliases,
or give a key twice: each is refused in words naming the file (and the line),
quickly and in little memory; a broken config lets the console start without
it, saying so."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import time
import tracemalloc
from pathlib import Path

import pytest

from tests.waiting import until
from xstui.services import backup as bk
from xstui.services.actions import InvalidInput
from xstui.services.updates.baseline import BaselineError
from xstui.services.updates.baseline import load as load_baseline
from xstui.sim.scenario import ScenarioError, load_scenario
from xstui.xapi.cache import Cache
from xstui.xapi.config import Config

GiB, MiB = 1024**3, 1024**2
OVA = (
    b"<value><struct><member><name>name_label</name><value>web-01</value></member>"
    b"<member><name>uuid</name><value>0b9c6a9e-0000-4000-8000-000000000001</value></member>"
    b"</struct></value>"
)


def gzip_of_zeros(out, n_mib: int) -> None:
    """``n_mib`` MiB of zeros, gzip compressed, written to ``out``: one gzip
    member of 1 MiB compressed once and repeated (gzip readers join them),
    so that neither the test nor the disk ever holds the decompressed data."""
    one = gzip.compress(bytes(MiB), compresslevel=9)
    for _ in range(n_mib):
        out.write(one)


def write_bomb(path: Path, header: tarfile.TarInfo, n_mib: int) -> int:
    """A .meta.xva whose tar ``header`` is followed by ``n_mib`` MiB of zeros,
    all gzip compressed; its size on disk."""
    with open(path, "wb") as out:
        out.write(gzip.compress(header.tobuf(format=tarfile.PAX_FORMAT)))
        gzip_of_zeros(out, n_mib)
    return path.stat().st_size


def peak_while(fn) -> tuple[BaseException | None, int]:
    """(what ``fn`` raised, the most memory Python held meanwhile)."""
    tracemalloc.start()
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 (MemoryError is what the bomb did)
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return None, 0


# 6: gzip bombs -------------------------------------------------------------


def test_a_metadata_file_holding_3_gb_is_refused_in_words_without_reading_it(tmp_path):
    header = tarfile.TarInfo("ova.xml")
    header.size = 3 * GiB
    bomb = tmp_path / "web-01.meta.xva"
    assert write_bomb(bomb, header, 3 * 1024) < 4 * MiB  # 3 GiB once decompressed
    started = time.monotonic()
    raised, peak = peak_while(lambda: bk.read_metadata(Cache(), bomb))
    assert isinstance(raised, InvalidInput), repr(raised)
    text = str(raised)
    assert str(bomb) in text and "ova.xml holds 3.0 GiB" in text and "MiB" in text
    assert peak < 64 * MiB and time.monotonic() - started < 10


def test_a_tar_header_that_decompresses_to_gigabytes_is_cut_at_the_limit(tmp_path):
    """A pax header (read whole by tarfile before any member) of 3 GiB: the
    decompressed stream stops at the limit, whatever the tar says."""
    header = tarfile.TarInfo("././@PaxHeader")
    header.type, header.size = tarfile.XHDTYPE, 3 * GiB
    bomb = tmp_path / "pax.meta.xva"
    with open(bomb, "wb") as out:
        out.write(gzip.compress(header.tobuf(format=tarfile.USTAR_FORMAT)))
        gzip_of_zeros(out, 3 * 1024)
    raised, peak = peak_while(lambda: bk.read_metadata(Cache(), bomb))
    assert isinstance(raised, InvalidInput), repr(raised)
    assert "once decompressed" in str(raised) and str(bomb) in str(raised)
    assert peak < 128 * MiB


def test_compressed_metadata_is_still_read(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        member = tarfile.TarInfo("ova.xml")
        member.size = len(OVA)
        tar.addfile(member, io.BytesIO(OVA))
    path = tmp_path / "web-01.meta.xva"
    path.write_bytes(gzip.compress(buf.getvalue()))
    read = bk.read_metadata(Cache(), path)
    assert (read.vm_name, read.vm_uuid) == ("web-01", "0b9c6a9e-0000-4000-8000-000000000001")
    path.write_bytes(gzip.compress(buf.getvalue())[:-30])  # truncated
    with pytest.raises(InvalidInput, match="is not VM metadata"):
        bk.read_metadata(Cache(), path)


# 7 and 8: YAML ---------------------------------------------------------------

BASELINE = "pool: Demo Pool\nrequire: [XS82ECU1001]\n"
SCENARIO = "hosts:\n  - name: xcp-a\n    master: true\n"
CONFIG = "targets: [https://xcp-a]\n"


def read_config(path: Path) -> str:
    """Config.load never raises: the problem is what it says."""
    return Config.load(path).problem


def read_baseline(path: Path) -> str:
    with pytest.raises(BaselineError) as err:
        load_baseline(str(path))
    return str(err.value)


def read_scenario(path: Path) -> str:
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(path))
    return str(err.value)


KINDS = {
    "config": (CONFIG, read_config),
    "baseline": (BASELINE, read_baseline),
    "scenario": (SCENARIO, read_scenario),
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_yaml_file_larger_than_the_limit_is_refused_unread(tmp_path, kind):
    good, read = KINDS[kind]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(good + "# " + "x" * MiB + "\n")  # valid YAML: a long comment
    started = time.monotonic()
    problem = read(path)
    assert str(path) in problem and "larger than 1.0 MiB" in problem
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_key_given_twice_is_refused_with_file_line_and_key(tmp_path, kind):
    good, read = KINDS[kind]
    first = good.splitlines()[0]
    key = first.split(":")[0]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(good + first + "\n")  # the first line again, at the end
    line = len(good.splitlines()) + 1
    problem = read(path)
    assert f"{path} line {line}" in problem, problem
    assert f"the key {key!r} is given twice (first on line 1)" in problem


def test_a_baseline_whose_require_is_given_twice_keeps_neither_silently(tmp_path):
    path = tmp_path / "baseline.yaml"
    path.write_text(
        "require: [XS82ECU1001]\nhosts:\n  xcp-c:\n    require: [XS82ECU1033]\n"
        "    require: [XS82ECU1034]\n"
    )
    assert f"{path} line 5: the key 'require' is given twice (first on line 4)" in read_baseline(
        path
    )


@pytest.mark.parametrize("kind", KINDS)
def test_yaml_nested_5000_deep_is_refused_with_file_and_line(tmp_path, kind):
    good, read = KINDS[kind]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(good + "extra: " + "[" * 5000 + "]" * 5000 + "\n")
    line = len(good.splitlines()) + 1
    problem = read(path)
    assert f"{path} line {line}: nested deeper than 32 levels" in problem, problem


def test_aliases_cannot_multiply_a_small_baseline(tmp_path):
    """A billion laughs: nine lines, 10^9 values once expanded."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\nrequire: *a8\n")
    started = time.monotonic()
    assert "values (aliases counted where used)" in read_baseline(path)
    assert time.monotonic() - started < 2


def test_merge_keys_still_work_and_are_not_duplicates(tmp_path):
    path = tmp_path / "baseline.yaml"
    path.write_text(
        "hosts:\n  xcp-b: &common {require: [XS82ECU1033], allow: [XS82ECU1041]}\n"
        "  xcp-c:\n    <<: *common\n    require: [XS82ECU1034]\n"
    )
    baseline = load_baseline(str(path))
    assert baseline.hosts["xcp-c"].require == {"XS82ECU1034"}
    assert baseline.hosts["xcp-c"].allow == {"XS82ECU1041"}


def deep_config(home: Path) -> Path:
    path = home / "config" / "xstui" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("theme: textual-dark\nkeymap: " + "[" * 5000 + "]" * 5000 + "\n")
    return path


def test_the_cli_runs_without_a_broken_config_and_says_so_in_one_line(tmp_path):
    path = deep_config(tmp_path)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    out = subprocess.run(
        [sys.executable, "-m", "xstui", "status", "demo", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["pool"]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert f"{path} line 2: nested deeper than" in lines[0] and "not saved" in lines[0]


async def test_the_console_starts_without_a_broken_config_and_says_so(tmp_path):
    from xstui.screens.connect import ConnectScreen

    from xstui.app import XstuiApp

    path = deep_config(tmp_path)  # where XDG_CONFIG_HOME points (tests/conftest.py)
    app = XstuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="the connect screen")
        notices = await until(
            pilot,
            lambda: [n.message for n in app._notifications if str(path) in n.message],
            what="a notice about the config file",
        )
        assert "line 2: nested deeper than" in notices[0] and "nothing is saved" in notices[0]
