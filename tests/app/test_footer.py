"""Keys at 80x24: every area's footer fits, the palette names keys as the
keymap moved them, and keys that cannot act in this mode are not offered."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

from tests.app.test_console import console, screen_text  # noqa: F401 (a fixture)
from tests.app.test_network_app import open_network
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.areas import AREAS
from xstui.widgets.console import foreign_glyphs
from xstui.widgets.tabbed import TabbedPanes, TabPane
from xstui.xapi.config import Config


def footer_keys(app) -> list[FooterKey]:
    """The footer's keys, the palette's included (none while the screen mounts)."""
    return [key for footer in app.screen.query(Footer) for key in footer.query(FooterKey)]


def footer_labels(app) -> list[FooterLabel]:
    """The labels of the footer's groups (the tabs' keys: "h p s a l Tabs")."""
    return [label for footer in app.screen.query(Footer) for label in footer.query(FooterLabel)]


def footer_ready(app) -> bool:
    """The footer shows the screen's keys as they are now (it redraws later)."""
    keys = footer_keys(app)
    if not keys:
        return False  # the screen is still mounting
    shown = {
        b.group.description if b.group else b.description
        for _, b, *_ in app.screen.active_bindings.values()
        if b.show
    }
    described = {k.description for k in keys if not k.has_class("-command-palette")} - {""}
    described |= {str(label.render()) for label in footer_labels(app)}
    return shown == described and all(k.size.width for k in keys)


async def test_every_footer_fits_80_columns(running_sim, connection):
    app, wide = XstuiApp(connection), []
    async with app.run_test(size=(80, 24)) as pilot:
        for area in AREAS:
            app.switch_mode(area.id)
            name = area.screen.split(":")[1]
            await until(pilot, lambda n=name: type(app.screen).__name__ == n, what=area.title)
            await until(pilot, lambda: footer_ready(app), what=f"{area.title} keys")
            tabs = [p.id for p in app.screen.query(TabPane)] or [None]
            for tab in tabs:
                if tab is not None:
                    app.screen.query_one(TabbedPanes).active = tab
                    await until(pilot, lambda t=tab: app.screen.tab == t, what=f"tab {tab}")
                await until(pilot, lambda: footer_ready(app), what=f"{area.title} {tab} keys")
                # the palette's key is docked right: the others end before it
                keys = footer_keys(app)
                palette = [k.region.x for k in keys if k.has_class("-command-palette")]
                ends = [k.region.right for k in keys if not k.has_class("-command-palette")]
                ends += [label.region.right for label in footer_labels(app)]
                width = max(ends, default=0) + 80 - min(palette, default=80)
                shown = [f"{k.key_display} {k.description}" for k in keys]
                if width > 80:
                    wide.append(f"{area.title} {tab}: {width} columns: {shown}")
    assert not wide, "\n".join(wide)


async def palette_text(pilot, search: str, shows: str) -> str:
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), what="the palette")
    await pilot.press(*search)
    return await until(
        pilot, lambda: (t := screen_text(pilot.app)) and shows in t and t, what=shows
    )


async def test_the_palette_shows_the_keys_of_the_keymap(running_sim, connection):
    app = XstuiApp(connection, config=Config(keymap={"network.bond": "B"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot)
        text = await palette_text(pilot, "bond", "Bond")
        assert "Key: B" in text and "Key: b" not in text


async def test_the_palette_on_the_linux_console(console, running_sim, connection):  # noqa: F811
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "status", None) is not None, what="Status")
        await pilot.press("ctrl+p")
        empty = await until(
            pilot, lambda: (t := screen_text(app)) and "Search" in t and t, what="the palette"
        )
        await pilot.press(*"rename")
        found = await until(
            pilot, lambda: (t := screen_text(app)) and "Rename" in t and t, what="the commands"
        )
        for text in (empty, found):
            assert not foreign_glyphs(text), sorted(foreign_glyphs(text))


async def test_remote_logs_offer_no_dom0_keys(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f10")
        await until(pilot, lambda: type(app.screen).__name__ == "LogsScreen", what="Logs")
        await pilot.press("g")
        await until(pilot, lambda: app.screen.tab == "files", what="the Logs tab")
        await until(pilot, lambda: footer_ready(app), what="the keys")
        assert {k.description for k in footer_keys(app)} - {""} == {"Quit", "palette"}
        assert [k.key_display for k in footer_keys(app) if k.has_class("-grouped")] == ["a", "g"]
        assert "run xstui local" in screen_text(app)


async def test_on_the_linux_console_a_key_that_cannot_work_is_not_drawn_and_says_why(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """A trial: dimmed keys were a shade of white on the console, and the
    console has no bright backgrounds, so no colour reads as "off" there:
    such a key is left out of the footer, and pressed, it says why."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        app.switch_mode("updates")
        await until(pilot, lambda: any(k.has_class("-disabled") for k in footer_keys(app)))
        off = [k for k in footer_keys(app) if k.has_class("-disabled")]
        assert "Upload" in {k.description for k in off}
        await until(pilot, lambda: "Precheck" in screen_text(app).splitlines()[-1])
        footer = screen_text(app).splitlines()[-1]
        assert "Upload" not in footer and "Precheck" in footer
        await pilot.press("u")
        await until(
            pilot,
            lambda: any(n.message.startswith("Upload: ") for n in app._notifications),
            what="Upload saying why",
        )


async def test_the_keys_panel_keeps_the_footer_whole_and_closes_with_escape(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """A trial: Textual's keys panel (palette: Keys) split the screen, the
    footer had 2/3 of it and its keys ran together, and Escape did not close
    it. Escape closes it, and only it: shown or not, Escape keeps its meaning."""
    from textual.widgets import HelpPanel
    from xstui.screens.host import HostScreen

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        app.switch_mode("host")
        await until(pilot, lambda: isinstance(app.screen, HostScreen), what="Host")
        await until(pilot, lambda: footer_ready(app), what="Host keys")
        await palette_text(pilot, "Keys", "Keys")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.query(HelpPanel), what="the keys panel")
        await until(pilot, lambda: footer_ready(app), what="the footer under it")
        assert app.screen.query_one(Footer).region.width == 80
        last = screen_text(app).splitlines()[-1]
        assert "Quit" in last and last.rstrip().endswith("^p palette"), last
        keys = sorted(footer_keys(app), key=lambda k: k.region.x)
        assert all(a.region.right < b.region.x for a, b in zip(keys, keys[1:], strict=False)), last
        await pilot.press("escape")
        await until(pilot, lambda: not app.screen.query(HelpPanel), what="the panel closed")
        # not shown: Escape is the screen's and dialogs' again (a form cancels)
        await pilot.press("n")  # NTP servers: a form
        await until(pilot, lambda: app.screen.query("#ok"), what="the NTP form")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HostScreen), what="the form cancelled")


async def test_every_tab_has_its_key_in_the_footer(running_sim, connection):
    """Trial s12 item 11: tab keys were in some footers (F1, F5, F6, F10), not
    in others (F2's i and c); F7's Details tab had none, and d on its Time
    tab did nothing. Every tab's key is in the footer, one group in the
    tabs' order, on every tab of every area."""
    from xstui.screens.base import TABS

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        for area in AREAS:
            app.switch_mode(area.id)
            name = area.screen.split(":")[1]
            await until(pilot, lambda n=name: type(app.screen).__name__ == n, what=area.title)
            await until(pilot, lambda: footer_ready(app), what=f"{area.title} keys")
            panes = [p.id for p in app.screen.query(TabPane)]
            if not panes:
                continue
            keys = {
                b.action[len("show_tab('") : -2]: b.key
                for b in app.screen.BINDINGS
                if getattr(b, "action", "").startswith("show_tab(")
            }
            assert list(keys) == panes, area.title  # every tab has a key, in order
            assert all(
                b.group is TABS for b in app.screen.BINDINGS if b.action.startswith("show_tab")
            )
            for pane in panes:
                await pilot.press(keys[pane])
                await until(pilot, lambda p=pane: app.screen.tab == p, what=f"{area.title} {pane}")
                await until(pilot, lambda: footer_ready(app), what=f"{area.title} {pane} keys")
                grouped = [k.key_display for k in footer_keys(app) if k.has_class("-grouped")]
                assert grouped == [keys[p] for p in panes], (area.title, pane, grouped)
