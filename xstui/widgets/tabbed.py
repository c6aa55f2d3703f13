"""Tabbed panes: a bar of tab titles over panes shown one at a time.

Textual's TabbedContent draws its bar with ten widgets (a Tab each, an
underline, three containers around them), each styled, laid out and
composited at every switch, and moves the underline a frame after the pane
is shown. Here the bar is one widget, drawn in the pane's own frame: a tab
key costs less (``tests/bench/keys.py``), and a screen's first frame has
its bar complete. The panes are children of ``TabbedPanes`` itself, one
shown at a time (Textual's ContentSwitcher was one more container drawn,
line by line, under the pane at every switch)."""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.renderables.bar import Bar
from textual.widget import Widget

PADDING = 1  # cells each side of a title


class TabBar(Widget, can_focus=True):
    """The titles, the active one marked, over a bar underlining it; Left and
    Right (focused) or a click choose another."""

    DEFAULT_CSS = """
    TabBar {
        width: 1fr;
        height: 2;
        & > .tab-bar--tab { color: $foreground 50%; }
        & > .tab-bar--hover { color: $foreground; }
        & > .tab-bar--active { color: $foreground; }
        & > .tab-bar--underline {
            color: $block-cursor-background;
            background: $foreground 10%;
        }
        &:ansi {
            & > .tab-bar--tab { text-style: dim; }
            & > .tab-bar--active { text-style: not dim bold; }
            & > .tab-bar--underline {
                color: $block-cursor-background;
                background: $border-blurred;
            }
        }
        &:focus {
            & > .tab-bar--active {
                text-style: $block-cursor-text-style;
                color: $block-cursor-foreground;
                background: $block-cursor-background;
            }
            & > .tab-bar--underline { background: $foreground 30%; }
        }
    }
    """
    COMPONENT_CLASSES = {"tab-bar--tab", "tab-bar--hover", "tab-bar--active", "tab-bar--underline"}
    BINDINGS = [
        Binding("left", "step(-1)", "Previous tab", show=False),
        Binding("right", "step(1)", "Next tab", show=False),
    ]
    ALLOW_SELECT = False

    active: reactive[str] = reactive("")
    hovered: reactive[str | None] = reactive(None)  # the tab under the mouse

    class Chosen(Message):
        """The admin chose a tab here (a click, an arrow)."""

        def __init__(self, bar: TabBar, tab: str) -> None:
            self.bar, self.tab = bar, tab
            super().__init__()

        @property
        def control(self) -> TabBar:
            return self.bar

    def __init__(self, titles: dict[str, str], active: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.titles = dict(titles)  # tab id -> title, in the bar's order
        self.set_reactive(TabBar.active, active)

    def retitle(self, tab: str, title: str) -> None:
        if tab in self.titles and self.titles[tab] != title:
            self.titles[tab] = title
            self.refresh()

    def spans(self) -> dict[str, tuple[int, int]]:
        """Each tab's cells on the bar, from its first to past its last."""
        out, x = {}, 0
        for tab, title in self.titles.items():
            width = len(title) + 2 * PADDING
            out[tab] = (x, x + width)
            x += width
        return out

    def _offset(self, spans: dict[str, tuple[int, int]]) -> int:
        """How far the titles are moved left for the active one to show."""
        end = spans.get(self.active, (0, 0))[1]
        return max(0, end - self.size.width)

    def render(self) -> Group:
        styles = {
            "tab": self.get_component_rich_style("tab-bar--tab"),
            "hover": self.get_component_rich_style("tab-bar--hover"),
            "active": self.get_component_rich_style("tab-bar--active"),
        }
        titles = Text(no_wrap=True, overflow="crop", end="")
        pad = " " * PADDING
        for name, title in self.titles.items():
            look = "active" if name == self.active else "hover" if name == self.hovered else "tab"
            titles.append(f"{pad}{title}{pad}", style=styles[look])
        spans = self.spans()
        offset = self._offset(spans)
        start, end = spans.get(self.active, (0, 2 * PADDING))  # under the title alone
        bar = self.get_component_rich_style("tab-bar--underline")
        return Group(
            titles[offset:],
            Bar(
                highlight_range=(start + PADDING - offset, end - PADDING - offset),
                highlight_style=Style.from_color(bar.color),
                background_style=Style.from_color(bar.bgcolor),
            ),
        )

    def at(self, x: int) -> str | None:
        """The tab drawn at column ``x``."""
        spans = self.spans()
        x += self._offset(spans)
        return next((tab for tab, (a, b) in spans.items() if a <= x < b), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self.hovered = self.at(event.x)

    def on_leave(self) -> None:
        self.hovered = None

    def on_click(self, event: events.Click) -> None:
        tab = self.at(event.x)
        if tab is not None:
            event.stop()
            self.post_message(self.Chosen(self, tab))

    def action_step(self, step: int) -> None:
        tabs = list(self.titles)
        if self.active in tabs:
            self.post_message(self.Chosen(self, tabs[(tabs.index(self.active) + step) % len(tabs)]))


class TabPane(Widget):
    """A pane of ``TabbedPanes``: its title and what it holds."""

    DEFAULT_CSS = "TabPane { height: auto; }"

    def __init__(self, title: str, *children: Widget, id: str, classes: str | None = None):
        super().__init__(*children, id=id, classes=classes)
        self.title = title


class TabbedPanes(Widget):
    """``with TabbedPanes(initial="host"): with TabPane("Host", id="host"): ...``;
    ``active`` is the shown pane's id. Every change of it, and the first
    pane at mount, is told by ``TabActivated``."""

    DEFAULT_CSS = """
    TabbedPanes {
        height: auto;
        & > TabBar { dock: top; }
    }
    """

    active: reactive[str] = reactive("", init=False)

    class TabActivated(Message):
        """A pane was shown."""

        ALLOW_SELECTOR_MATCH = {"pane"}

        def __init__(self, tabbed: TabbedPanes, pane: TabPane) -> None:
            self.tabbed, self.pane = tabbed, pane
            super().__init__()

        @property
        def control(self) -> TabbedPanes:
            return self.tabbed

    def __init__(self, *, initial: str = "", id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self._initial = initial
        self._panes: list[TabPane] = []

    def compose_add_child(self, widget: Widget) -> None:
        if not isinstance(widget, TabPane) or not widget.id:
            raise TypeError("TabbedPanes holds TabPanes with ids")
        self._panes.append(widget)

    def compose(self) -> ComposeResult:
        first = self._initial or (self._panes[0].id if self._panes else "")
        self.set_reactive(TabbedPanes.active, first)
        yield TabBar({pane.id: pane.title for pane in self._panes}, first)
        for pane in self._panes:
            pane.display = pane.id == first
            yield pane

    def on_mount(self) -> None:
        if self.active:
            self.post_message(self.TabActivated(self, self.pane(self.active)))

    def pane(self, tab: str) -> TabPane:
        return self.get_child_by_id(tab, TabPane)

    def validate_active(self, tab: str) -> str:
        if tab not in self.get_child_by_type(TabBar).titles:
            raise ValueError(f"no tab {tab!r} here")
        return tab

    def watch_active(self, old: str, tab: str) -> None:
        self.pane(old).display = False
        self.pane(tab).display = True
        self.get_child_by_type(TabBar).active = tab
        self.post_message(self.TabActivated(self, self.pane(tab)))

    def on_tab_bar_chosen(self, event: TabBar.Chosen) -> None:
        event.stop()
        self.active = event.tab

    def title(self, tab: str) -> str:
        return self.get_child_by_type(TabBar).titles[tab]

    def retitle(self, tab: str, title: str) -> None:
        """A tab's new title (e.g. with a count)."""
        self.get_child_by_type(TabBar).retitle(tab, title)
