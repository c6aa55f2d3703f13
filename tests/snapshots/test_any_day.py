"""The snapshots read the same on any day: the whole snapshot suite passes
with the machine's clock moved 40 days ahead (libfaketime moves every clock
call of the process, so a "now" read anywhere but xstui.clock shows up)."""

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def forty_days_ahead(*argv: str, timeout: float) -> subprocess.CompletedProcess:
    faketime = shutil.which("faketime")
    if faketime is None:
        pytest.skip("faketime is not installed (apt-get install faketime; .ci/run does)")
    env = {
        **os.environ,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",  # elapsed time stays real
        "TEXTUAL_ANIMATIONS": "none",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [faketime, "-f", "+40d", sys.executable, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.long
@pytest.mark.timeout(900)
def test_snapshots_pass_40_days_ahead(tmp_path):
    today = forty_days_ahead("-c", "import datetime; print(datetime.date.today())", timeout=60)
    moved = dt.date.fromisoformat(today.stdout.strip()) - dt.date.today()
    assert 39 <= moved.days <= 41, f"faketime did not move the clock: {today.stdout}"
    result = forty_days_ahead(
        "-m",
        "pytest",
        str(ROOT / "tests" / "snapshots" / "test_screens.py"),
        "-p",
        "no:cacheprovider",
        "-n",
        "0",
        "-q",
        "--timeout",
        "300",
        "--snapshot-report",
        str(tmp_path / "report.html"),
        timeout=850,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
