"""Layering and packaging rules that keep the project installable and testable."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str) -> list[str]:
    folder = ROOT / package.replace(".", "/")
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in folder.rglob("*.py")
    )


def _imports_in_fresh_interpreter(modules: list[str], forbidden: str) -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"leaked = sorted(m for m in sys.modules if m == {forbidden!r} or m.startswith({forbidden!r} + '.'))\n"
        "assert not leaked, leaked\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_service_layers_do_not_import_textual():
    """Every module of xstui.xapi, xstui.services, xstui.sim and the area list,
    imported in a fresh interpreter, leaves Textual out."""
    modules = _modules("xstui/xapi") + _modules("xstui/services") + _modules("xstui/sim")
    modules += ["xstui.areas", "xstui.script", "xstui.datamodel"]
    assert len(modules) > 30
    _imports_in_fresh_interpreter(modules, "textual")


def test_the_client_layer_does_not_import_the_simulator():
    """xstui.xapi talks to any XAPI; the demo's simulator is started above it."""
    _imports_in_fresh_interpreter(_modules("xstui/xapi"), "xstui.sim")


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


def test_every_package_is_listed_for_installation():
    """pyproject lists packages explicitly (screens and assets are mapped in):
    a new area's package must be added there, or `pip install .` drops it."""
    import pytest

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "xstui").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
