"""Layering and packaging rules that keep the project installable and testable."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_service_layers_do_not_import_textual():
    code = (
        "import sys, xstui.xapi, xstui.services, xstui.sim, xstui.sim.runner, xstui.sim.server;"
        "import xstui.sim.scenario, xstui.sim.dump;"
        "assert 'textual' not in sys.modules, 'textual imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plain_install_finds_screens_and_assets(tmp_path):
    """`pip install .` (not editable) must ship xstui.screens and the assets."""
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    code = (
        "import xstui, xstui.screens, xstui.sim.scenario as s;"
        f"assert xstui.__file__.startswith({str(target)!r}), xstui.__file__;"
        "assert 'demo' in s.builtin_names();"
        "from xstui.sim.schema import classes; assert 'VM' in classes()"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
    )


def test_lint_is_clean():
    """ruff (configured in pyproject.toml) finds nothing."""
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "xstui", "screens", "tests", "tools"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-2000:]
