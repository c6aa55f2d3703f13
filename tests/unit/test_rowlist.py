"""RowList's cells are data: markup is shown as it is, and the characters a
terminal would act on (controls, bidi overrides, line separators) as '?', so a
name cannot colour, move or reorder what the console shows."""

import pytest
from rich.cells import cell_len

from xstui.widgets.rowlist import cell_text


def test_markup_is_shown_as_it_is():
    assert cell_text("[b]xcp-a[/b]", 14) == "[b]xcp-a[/b]  "


@pytest.mark.parametrize(
    "name",
    [
        "a\x1b[31mb",  # an escape sequence
        "a\x00\x07\x7fb",  # NUL, BEL, DEL
        "a\x9bb",  # C1 CSI
        "a\u202eb",  # right-to-left override
        "a\u2067b\u2069",  # right-to-left isolate
        "a\u200fb",  # right-to-left mark
        "a\u2028b",  # line separator
        "a\ufeffb",  # zero-width no-break space
    ],
)
def test_controls_and_bidi_characters_are_shown_as_question_marks(name):
    shown = cell_text(name, 12)
    assert shown.startswith("a?") and shown.isprintable()
    assert cell_len(shown) == len(shown) == 12  # each is one cell: the columns stay aligned


def test_a_long_name_is_cut_to_its_column_and_says_so():
    """Trial s12 item 4: F2's Network column showed "Pool-wide network as",
    a cut name that read as a whole one."""
    assert cell_text("x" * 10_000, 16) == "x" * 15 + "~"
    assert cell_text("Pool-wide network associated with eth0", 20) == "Pool-wide network a~"
    assert cell_text("x" * 16, 16) == "x" * 16  # it fits: not cut
    assert cell_len(cell_text("名前" * 10, 7)) == 7  # wide characters too


async def test_the_last_row_is_in_view_when_a_wide_table_has_a_horizontal_scroll_bar():
    """The trial's F8 End: the cursor went to web-03 under the scroll bar,
    out of sight, and p then acted on a VM the admin could not see."""
    from textual.app import App

    from tests.waiting import until
    from xstui.widgets.rowlist import RowList

    class Wide(App):
        def compose(self):
            yield RowList([("Name", 30), ("Notes", 80)])

    app = Wide()
    async with app.run_test(size=(80, 12)) as pilot:
        rows = app.query_one(RowList)
        rows.set_rows([(f"vm-{i:02}", [f"vm-{i:02}", "x" * 70]) for i in range(30)])
        rows.focus()
        await until(pilot, lambda: rows.scrollable_content_region.height < rows.size.height)
        await pilot.press("end")
        await pilot.pause()
        shown = [rows.render_line(y).text for y in range(rows.scrollable_content_region.height)]
        assert any("vm-29" in line for line in shown), shown
        await pilot.press("pageup", "pagedown")
        await pilot.pause()
        shown = [rows.render_line(y).text for y in range(rows.scrollable_content_region.height)]
        assert any("vm-29" in line for line in shown), shown
