"""The README's key table, made from the areas' declarations (the ACTS of
each screen): ``python -m xstui.screens.keys --write`` puts it in the
README between its markers; a test fails when the two drift apart."""

from __future__ import annotations

import sys
from pathlib import Path

from textual.binding import Binding

from xstui.app import screen_class
from xstui.areas import AREAS

BEGIN = "<!-- keys: made by python -m xstui.screens.keys --write -->"
END = "<!-- keys end -->"
README = Path(__file__).resolve().parent.parent / "README.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table() -> str:
    """Every area with each of its keys: what it does, and where it is offered."""
    lines = ["| Area | Key | Does | Where |", "|---|---|---|---|"]
    for area in AREAS:
        cls = screen_class(area)
        head = f"{area.key.upper()} {area.title}"
        for binding in cls.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            act = cls.acts.get(binding.action)
            does = f"{binding.description}: {act.help}" if act and act.help else binding.description
            where = ["footer" if binding.show else "palette"]
            if act is not None and act.tab:
                where.append(f"{act.tab} tab")
            if act is not None and act.dom0:
                where.append("in dom0")
            key = binding.key.split(",")[0]
            lines.append(f"| {head} | `{key}` | {_cell(does)} | {', '.join(where)} |")
            head = ""
    return "\n".join(lines)


def section(text: str) -> str:
    """The README's table, as it stands."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def write(path: Path = README) -> None:
    text = path.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    path.write_text(text[:start] + "\n" + table() + "\n" + text[end:])


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(table())
