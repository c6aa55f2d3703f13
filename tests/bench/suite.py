"""Benchmark (on demand: ``make bench``): the test suite as ``make test`` runs
it, timed from outside (a subprocess, wall clock), idle and with two CPU-bound
loops beside it, each beside its floor in the same run: pytest with the same
options (xdist's workers, the plugins) running one trivial test. Prints JSON:
seconds, the floor, CPU seconds of the run and whether it passed."""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _spin() -> None:
    while True:
        pass


def timed(args: list[str], cwd: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=cwd,
        env={**os.environ, "TEXTUAL_ANIMATIONS": "none"},
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    return {
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "passed": done.returncode == 0,
        "summary": last,
    }


def run(load: int) -> dict:
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(load)]
    for p in spinners:
        p.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "test_floor.py").write_text("def test_nothing():\n    pass\n")
            Path(folder, "conftest.py").write_text("")
            floor = timed(["-n", "auto", "test_floor.py"], Path(folder))
        suite = timed([], ROOT)  # pyproject's addopts: -n auto, the timeout
    finally:
        for p in spinners:
            p.terminate()
    return {"cpu_loops_beside": load, "suite": suite, "floor": floor}


def main() -> None:
    print(json.dumps([run(0), run(2)], indent=2))


if __name__ == "__main__":
    main()
