"""Keys read together (a fast typist, a slow SSH link) act in the order they
were typed: Textual runs a text field's Backspace or arrow through every
container up to the app's bindings, and a letter read with it went into the
field first (Backspace then "x" left the field as it was)."""

from __future__ import annotations

from textual import events

from tests.app.test_app import loaded
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.widgets.form import Entry, FormModal


def typed(app, *keys: tuple[str, str | None]) -> None:
    """Keys as the driver posts them when one read brings them all."""
    for key, character in keys:
        app.post_message(events.Key(key, character))


async def test_editing_keys_and_letters_read_together_act_in_order(connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: loaded(app), what="Status loaded")
        await pilot.press("n")  # rename this host: a form with its name in a text field
        await until(pilot, lambda: isinstance(app.screen, FormModal), what="the rename form")
        field = app.screen.query_one(Entry)
        await until(pilot, lambda: app.focused is field and field.value == "xcp-a", what="focus")
        typed(app, ("end", None))
        await until(pilot, lambda: field.cursor_position == 5, what="the cursor at the end")
        typed(app, ("backspace", "\x7f"), ("x", "x"), ("left", None), ("y", "y"))
        await pilot.pause()
        await pilot.pause()
        print("VALUE", repr(field.value), field.selection)
        await until(pilot, lambda: field.value == "xcp-yx", what="'xcp-yx'", timeout=10)
        await pilot.press("escape")
