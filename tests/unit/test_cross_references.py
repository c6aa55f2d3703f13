"""One style for every reference from one place of the console to another
(issue 27; docs/DIALOGS.md): "Host, Time tab (F7, t)", "Security (F6, w)",
made by xstui.areas.see from the list of areas. The older styles ("see
Host, Time", "Host > l", "(F8, p)", "F1 Status, l Load, e"...) cannot come
back as literals, and every reference names keys its area has."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from xstui.areas import AREAS, see

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "screens", ROOT / "xstui"]
TITLES = "|".join(re.escape(a.title) for a in AREAS)
FKEYS = "|".join(a.key.upper() for a in AREAS)
OLD_STYLES = [
    re.compile(rf"\b(?:{TITLES}) > \S"),  # Host > l
    re.compile(rf"\((?:see )?(?:{TITLES}), [^)]*\)"),  # (Host, D), (see Host, Time)
    re.compile(rf"\b(?:{TITLES}), [A-Za-z]\b[,)]"),  # (... : Host, t), (Security, w, ...)
    re.compile(rf"\((?:{FKEYS})\b[^)]*\)"),  # (F8, p), (F5), (F10 Logs)
    re.compile(rf"\b(?:{FKEYS}) (?:{TITLES})\b"),  # F1 Status, l Load, e
]
# what the trial found (issue 27): each is one of the old styles
FOUND = [
    "(see Host, Time)",
    "Host > l sends them",
    "(Backup > i)",
    "(Host, D)",
    "(Security, w)",
    "(Security, w, from the master)",
    "(Status, Security)",
    "(F8, p)",
    "(F5, e)",
    "(F7, m)",
    "see HA (F3)",
    "F1 Status, l Load, e",
    "(xstui local on the host: Host, t)",
    "(Networking, pool check)",
    "(F10 Logs)",
]


def _modules():
    for top in SCANNED:
        for path in sorted(top.rglob("*.py")):
            yield path, ast.parse(path.read_text(), str(path))


def _docstrings(tree) -> set[int]:
    """The ids of the docstrings' nodes (for the reader of the code, not shown)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _literals():
    """(where, text) of every string literal but docstrings; an f-string's
    literal parts joined, a placeholder as {}."""
    for path, tree in _modules():
        docs = _docstrings(tree)
        inside = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.JoinedStr):
                text = "".join(
                    v.value if isinstance(v, ast.Constant) else "{}" for v in node.values
                )
                yield where, text
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and id(node) not in inside
            ):
                yield where, node.value


def _old_style(text: str) -> str:
    return next((m[0] for p in OLD_STYLES if (m := p.search(text))), "")


def test_the_helper_says_area_tab_and_keys_in_one_style():
    assert see("host", "t", tab="Time") == "Host, Time tab (F7, t)"
    assert see("security", "w") == "Security (F6, w)"
    assert see("ha") == "HA (F3)"
    assert see("status", "l", "e", tab="Load") == "Status, Load tab (F1, l, e)"
    with pytest.raises(ValueError):
        see("nowhere")


def test_the_old_styles_are_recognised():
    assert [f for f in FOUND if not _old_style(f)] == []


def test_no_cross_reference_is_written_in_an_old_style():
    old = [f"{where}: {found!r}" for where, text in _literals() if (found := _old_style(text))]
    assert old == []


def _references():
    """Every see(area, *keys, tab=...) call written with literal arguments."""
    for path, tree in _modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "see"
                and all(isinstance(a, ast.Constant) for a in node.args)
            ):
                tab = next((k.value.value for k in node.keywords if k.arg == "tab"), "")
                yield (
                    f"{path.relative_to(ROOT)}:{node.lineno}",
                    node.args[0].value,
                    [a.value for a in node.args[1:]],
                    tab,
                )


def _screen_keys_and_tabs(area) -> tuple[set[str], set[str]]:
    """The keys the area's screen has (its acts' and bindings') and its tabs' titles."""
    module, name = area.screen.split(":")
    screen = getattr(importlib.import_module(module), name)
    keys = {a.key for a in screen.ACTS} | {b.key for b in screen.BINDINGS}
    tree = ast.parse(Path(importlib.import_module(module).__file__).read_text())
    tabs = {
        n.args[0].value
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and getattr(n.func, "id", "") == "TabPane"
        and n.args
        and isinstance(n.args[0], ast.Constant)
    }
    return keys, tabs


def test_every_reference_names_an_area_its_tab_and_keys_there():
    by_id = {a.id: a for a in AREAS}
    refs = list(_references())
    assert len(refs) >= 20  # the references of screens/ and services/ are made by see()
    wrong = []
    for where, area, keys, tab in refs:
        if area not in by_id:
            wrong.append(f"{where}: no area {area!r}")
            continue
        known, tabs = _screen_keys_and_tabs(by_id[area])
        wrong += [f"{where}: {area} has no key {k!r}" for k in keys if k not in known]
        if tab and tab not in tabs:
            wrong.append(f"{where}: {area} has no tab {tab!r}")
    assert wrong == []
