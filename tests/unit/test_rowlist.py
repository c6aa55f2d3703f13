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


def test_a_long_name_is_cut_to_its_column():
    assert cell_text("x" * 10_000, 16) == "x" * 16
