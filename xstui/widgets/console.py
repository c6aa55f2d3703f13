"""The Linux text console (TERM=linux): iLO/DRAC remote consoles and the
physical screen, 16 colours and a PC console font, whose glyphs are those of
code page 437. There, Textual's chrome is drawn with those glyphs only: light
box borders, no heavy or rounded lines, no eighth blocks."""

from __future__ import annotations

import os

from textual.command import CommandPalette, DiscoveryHit, Hits, SearchIcon
from textual.system_commands import SystemCommandsProvider

# What a PC console font shows: CP437's printable range and the glyphs of its
# control positions (smileys, arrows, bullets), which Linux console fonts carry.
CP437 = frozenset(bytes(range(0x20, 0x100)).decode("cp437")) | frozenset(
    "☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼"
)


def is_linux_console() -> bool:
    return os.environ.get("TERM") == "linux"


def adapt_textual() -> None:
    """Process-wide: bars (tab underline, progress) and scrollbars in CP437 glyphs."""
    from textual.renderables.bar import Bar
    from textual.scrollbar import ScrollBarRender

    Bar.HALF_BAR_LEFT = Bar.BAR = Bar.HALF_BAR_RIGHT = "▀"
    # the thumb is drawn by its colour; the eighth-block ends are dropped
    ScrollBarRender.VERTICAL_BARS = [" "] * 8
    ScrollBarRender.HORIZONTAL_BARS = [" "] * 8


def foreign_glyphs(text: str) -> set[str]:
    """Characters of ``text`` a PC console font cannot show."""
    return {c for c in text if c not in CP437 and c not in "\n"}


class ConsolePalette(CommandPalette):
    """The command palette without its emoji and ellipsis (its borders are in
    xstui.tcss, under ``App.-console``)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder="Search for commands...", **kwargs)

    def on_mount(self) -> None:
        self.query_one(SearchIcon).icon = ">"


GO_TO = "Go to "  # the palette's commands that show an area


class AreasFirst(SystemCommandsProvider):
    """The palette's commands (the app's system commands). Opened with
    nothing typed, it lists the areas first, in the order of their keys
    (F1 to F10, as the keymap has them): the map of the areas; then the
    rest by name, as Textual does."""

    async def discover(self) -> Hits:
        commands = [c for c in self.app.get_system_commands(self.screen) if c.discover]
        areas = [c for c in commands if c.title.startswith(GO_TO)]
        rest = sorted((c for c in commands if not c.title.startswith(GO_TO)), key=lambda c: c.title)
        for command in areas + rest:
            yield DiscoveryHit(command.title, command.callback, help=command.help)
