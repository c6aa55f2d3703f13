"""An area screen's life as Textual leads it: drawn once when it mounts or
comes back into view, whatever Textual sends twice (it calls each class's
on_mount down the MRO, and posts two ScreenResume for a new mode); its
footer's keys there from the first frame; the Status cards' columns
following the terminal's width; a new area styled without reparsing the CSS."""

from __future__ import annotations

import time

from textual.app import App
from textual.screen import Screen
from textual.widgets._footer import FooterKey
from xstui.screens.base import REDRAW_INTERVAL, AreaScreen

from tests.app.test_app import loaded
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.areas import AREAS


class Counting(AreaScreen):
    """Draws counted; its handlers call super() to draw when they choose, as
    the areas' screens do."""

    BINDINGS = [("x", "nothing", "Nothing")]

    def __init__(self) -> None:
        super().__init__(AREAS[0])
        self.draws = 0

    def refresh_view(self, classes=None) -> None:
        self.draws += 1

    def on_mount(self) -> None:
        super().on_mount()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()

    def action_nothing(self) -> None:
        pass


class Host(App):
    MODES = {"counting": Counting}
    connection = None  # AreaScreen's bar draws nothing without one


async def test_drawn_once_when_mounted_and_once_each_time_shown_again():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.switch_mode("counting")  # a new mode: Textual posts ScreenResume twice
        screen = app.screen
        await until(pilot, lambda: screen._area_resumed, what="the screen resumed")
        await pilot.pause()
        assert screen.draws == 1
        assert screen.stack_updates == 1  # Screen's own resume (restyle, repaint) ran once
        await app.push_screen(Screen())
        app.pop_screen()
        await until(pilot, lambda: app.screen is screen and screen._area_drawn, what="shown again")
        await pilot.pause()
        assert screen.draws == 2


async def test_footer_keys_composed_with_the_screen():
    """Textual's footer composes empty and again once told of the bindings:
    a frame later. Here its keys are there as soon as the screen is mounted."""
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.switch_mode("counting")
        keys = [key.description for key in app.screen.query(FooterKey)]
        assert "Nothing" in keys
        await pilot.pause()


async def test_status_cards_two_abreast_on_a_wide_terminal(connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: loaded(app), what="Status loaded")
        grid = app.screen.query_one("#host-grid")
        assert grid.styles.grid_size_columns == 1
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: grid.styles.grid_size_columns == 2, what="two columns")
        await until(pilot, lambda: grid.children[0].region.width > 50, what="cards widened")
        cards = [card.region for card in grid.children]
        assert cards[0].y == cards[1].y and cards[0].x < cards[1].x
        await pilot.resize_terminal(100, 30)
        await until(pilot, lambda: grid.styles.grid_size_columns == 1, what="one column")


class Summarising(Counting):
    SUMMARISED = frozenset({"vm"})


async def test_changes_only_to_what_is_summarised_are_drawn_less_often():
    """A pool's thousands of VMs, counted on Status: their changes are drawn
    together over SUMMARY_INTERVAL; a change to anything else, at the usual
    pace, the VMs' pending ones with it."""
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = Summarising()
        await app.push_screen(screen)
        await until(pilot, lambda: screen.ready, what="mounted")
        drawn = screen.draws
        screen.cache_changed(frozenset({"vm"}))
        assert screen._redraw_due > time.monotonic() + REDRAW_INTERVAL
        screen.cache_changed(frozenset({"host"}))
        assert screen._redraw_due <= time.monotonic() + REDRAW_INTERVAL
        await until(pilot, lambda: not screen.redraw_pending, what="drawn")
        assert screen.draws == drawn + 1


class Barred(Counting):
    def __init__(self) -> None:
        super().__init__()
        self.bars = 0  # the connection bar drawn

    def refresh_bar(self) -> None:
        self.bars += 1


async def test_the_pool_and_host_names_are_drawn_as_they_come():
    """Trial of the start: the bar's pool and host names came REDRAW_INTERVAL
    after the pool's first part (the first Status screen's last change). The
    bar is drawn at once (only if what it says changed); the view still
    draws its changes together."""
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = Barred()
        await app.push_screen(screen)
        await until(pilot, lambda: screen.ready, what="mounted")
        bars, drawn = screen.bars, screen.draws
        screen.cache_changed(frozenset({"vm"}))
        assert screen.bars == bars
        screen.cache_changed(frozenset({"pool", "host"}))
        assert (screen.bars, screen.draws, screen.redraw_pending) == (bars + 1, drawn, True)
        await until(pilot, lambda: not screen.redraw_pending, what="drawn")
        assert (screen.bars, screen.draws) == (bars + 1, drawn + 1)


async def test_a_screen_being_taken_down_is_told_of_changes_without_failing(connection):
    """A clean-clone CI run: the pool changed as the app was quitting, the bar
    drawn at once was no longer there, and the app stopped with NoMatches."""
    from xstui.widgets.header import ConnectionBar

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: loaded(app), what="Status loaded")
        screen = app.screen
        await screen.query_one(ConnectionBar).remove()  # as when the screen is taken down
        screen.cache_changed(frozenset({"pool", "host"}))
        assert screen.redraw_pending  # the view's change still noted


async def test_an_area_first_shown_is_styled_without_reparsing_the_css(connection, monkeypatch):
    """Textual counts a new mode's screen as styled by out-of-date CSS and
    reparsed every stylesheet twice to show it (at start, and at each area's
    first key); a change of theme still reaches the screens not shown."""
    from textual.css.stylesheet import Stylesheet

    reparsed = []
    reparse = Stylesheet.reparse
    monkeypatch.setattr(Stylesheet, "reparse", lambda sheet: reparsed.append(1) or reparse(sheet))
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: loaded(app), what="Status loaded")
        await app.switch_mode("network")
        await until(pilot, lambda: app.screen.ready, what="Network shown")
        assert reparsed == []
        network = app.screen
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await until(pilot, lambda: reparsed, what="the theme's CSS parsed")
        await app.switch_mode("status")  # not shown when the theme changed: restyled now
        await until(pilot, lambda: app.screen is not network, what="Status shown")
        assert app.screen._css_update_count == app._css_update_count
