"""The areas' tabbed panes (xstui.widgets.tabbed): one widget for the bar,
drawn in the same frame as the pane it shows."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import Static

from tests.waiting import until
from xstui.widgets.tabbed import TabBar, TabbedPanes, TabPane

TITLES = {"host": "Host", "pool": "Pool", "storage": "Storage", "health": "Health (10)"}


class Tabbed(App):
    def __init__(self, initial: str = "") -> None:
        super().__init__()
        self.initial = initial
        self.shown: list[str] = []

    def compose(self):
        with TabbedPanes(initial=self.initial, id="tabs"):
            for tab, title in TITLES.items():
                with TabPane(title, id=tab):
                    yield Static(f"{title} pane", id=f"{tab}-body")

    def on_tabbed_panes_tab_activated(self, event: TabbedPanes.TabActivated) -> None:
        self.shown.append(event.pane.id)


def bar_lines(app) -> list[str]:
    bar = app.query_one(TabBar)
    return [strip.text for strip in bar.render_lines(bar.size.region)]


def underlined(app) -> list[int]:
    """The columns the underline highlights (drawn in the highlight's colour)."""
    bar = app.query_one(TabBar)
    colour = bar.get_component_rich_style("tab-bar--underline").color
    cells = []
    for segment in bar.render_lines(bar.size.region)[1]:
        cells += [segment.style.color if segment.style else None] * len(segment.text)
    return [x for x, c in enumerate(cells) if c == colour]


async def test_the_first_pane_is_shown_and_told_at_mount():
    app = Tabbed()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.shown == ["host"], what="the first pane told")
        tabs = app.query_one(TabbedPanes)
        assert tabs.active == "host"
        assert (
            app.query_one("#host", TabPane).display and not app.query_one("#pool", TabPane).display
        )
        assert bar_lines(app)[0].startswith(" Host  Pool  Storage  Health (10) ")
        assert underlined(app) == [1, 2, 3, 4]  # under the active title alone


async def test_keys_and_clicks_choose_a_tab_and_each_change_is_told():
    app = Tabbed(initial="pool")
    async with app.run_test(size=(80, 24)) as pilot:
        tabs = app.query_one(TabbedPanes)
        await until(pilot, lambda: app.shown == ["pool"], what="the initial pane told")
        app.query_one(TabBar).focus()
        await pilot.press("right")
        await until(pilot, lambda: tabs.active == "storage", what="Right: the next tab")
        await pilot.press("left", "left")
        await until(pilot, lambda: tabs.active == "host", what="Left twice")
        await pilot.press("left")  # from the first, round to the last
        await until(pilot, lambda: tabs.active == "health", what="round to the last")
        await pilot.hover(TabBar, offset=(8, 0))  # " Host  Pool ": column 8 is Pool's
        await until(pilot, lambda: app.query_one(TabBar).hovered == "pool", what="hovered")
        await pilot.click(TabBar, offset=(8, 0))
        await until(pilot, lambda: tabs.active == "pool", what="the clicked tab")
        await pilot.click(TabBar, offset=(70, 0))  # past the titles: nothing
        await pilot.pause()
        assert tabs.active == "pool"
        assert app.shown == ["pool", "storage", "pool", "host", "health", "pool"]
        assert (
            app.query_one("#pool", TabPane).display
            and not app.query_one("#health", TabPane).display
        )
        assert underlined(app) == [7, 8, 9, 10]


async def test_retitled_and_an_unknown_tab_refused():
    app = Tabbed()
    async with app.run_test(size=(80, 24)) as pilot:
        tabs = app.query_one(TabbedPanes)
        tabs.retitle("health", "Health (3)")
        tabs.retitle("nowhere", "Nowhere")  # no such tab: nothing added
        await pilot.pause()
        assert tabs.title("health") == "Health (3)"
        assert list(app.query_one(TabBar).titles) == list(TITLES)
        assert "Health (3)" in bar_lines(app)[0]
        with pytest.raises(ValueError):
            tabs.active = "nowhere"
        assert tabs.active == "host"


async def test_a_narrow_bar_moves_its_titles_for_the_active_one_to_show():
    app = Tabbed()
    async with app.run_test(size=(20, 10)) as pilot:
        tabs = app.query_one(TabbedPanes)
        tabs.active = "health"
        await until(pilot, lambda: "Health (10)" in bar_lines(app)[0], what="Health in view")
        await pilot.click(TabBar, offset=(15, 0))
        await pilot.pause()
        assert tabs.active == "health"  # the click found the title drawn there
        tabs.active = "host"
        await until(pilot, lambda: bar_lines(app)[0].startswith(" Host "), what="back at the start")
