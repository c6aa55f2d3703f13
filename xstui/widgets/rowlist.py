"""A table for thousands of rows: only the lines on screen are drawn, so
filtering 4000 VMs as the admin types costs a list comprehension, not a
rebuild of widgets. Rows are (key, cells); cells are plain text (names from
XAPI are data: never markup, control and bidi characters shown as '?'). Space
marks rows for bulk actions."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..services.values import CONTROL

CUT = "~"  # ends a cell cut to its column (as Midnight Commander cuts names; in every font)


def cell_text(value: str, width: int) -> str:
    """The cell at its column's width: padded, or cut with CUT as its last
    character, so that a cut name never reads as a whole one (the row's
    detail line says it in full)."""
    value = CONTROL.sub("?", value)
    if cell_len(value) > width > 1:
        return set_cell_size(value, width - 1) + CUT
    return set_cell_size(value, width)


class RowList(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"rowlist--header", "rowlist--cursor", "rowlist--marked"}
    DEFAULT_CSS = """
    RowList { height: 1fr; }
    RowList > .rowlist--header { text-style: bold; background: $panel; }
    RowList > .rowlist--cursor { background: $accent; color: $text; }
    RowList > .rowlist--marked { text-style: bold; color: $warning; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1000000)", "First", show=False),
        Binding("end", "move(1000000)", "Last", show=False),
        Binding("space", "toggle_mark", "Select", id="rowlist.mark"),
    ]

    class Marked(Message):
        """Rows were marked or unmarked."""

    class Moved(Message):
        """The cursor moved to another row (screens showing its details redraw)."""

        def __init__(self, rowlist: RowList) -> None:
            super().__init__()
            self.rowlist = rowlist

        @property
        def control(self) -> RowList:
            return self.rowlist

    def __init__(
        self, columns: Sequence[tuple[str, int]], *, markable: bool = True, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.markable = markable  # False: space does nothing (lists read, not acted on)
        self.columns = list(columns)
        self.rows: list[tuple[str, Sequence[str]]] = []
        self.cursor = 0
        self.marked: set[str] = set()
        self.row_width = sum(w + 1 for _, w in self.columns) + 2

    # model --------------------------------------------------------------------
    def set_rows(self, rows: list[tuple[str, Sequence[str]]]) -> None:
        """Show these rows; the cursor stays on the same key when it is still there."""
        key = self.cursor_key
        self.rows = rows
        index = next((i for i, (k, _) in enumerate(rows) if k == key), None) if key else None
        self.cursor = index if index is not None else min(self.cursor, max(len(rows) - 1, 0))
        self.virtual_size = Size(self.row_width, len(rows) + 1)
        self._keep_cursor_visible()
        self.refresh()

    @property
    def cursor_key(self) -> str | None:
        return self.rows[self.cursor][0] if 0 <= self.cursor < len(self.rows) else None

    def chosen(self) -> list[str]:
        """The marked rows, or else the one under the cursor."""
        if self.marked:
            return [k for k, _ in self.rows if k in self.marked] + sorted(
                self.marked - {k for k, _ in self.rows}
            )
        return [self.cursor_key] if self.cursor_key else []

    # keys ---------------------------------------------------------------------
    def action_move(self, step: int) -> None:
        if not self.rows:
            return
        old = self.cursor
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))
        if self.cursor != old:
            self._keep_cursor_visible()
            self.refresh()
            self.post_message(self.Moved(self))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self._rows_shown() - 1))

    def action_toggle_mark(self) -> None:
        key = self.cursor_key
        if key is None:
            return
        self.marked ^= {key}
        self.action_move(1)
        self.refresh()
        self.post_message(self.Marked())

    def mark_all(self, keys: list[str]) -> None:
        """Mark these rows; when they all are already, unmark them."""
        self.marked = (
            self.marked | set(keys) if not set(keys) <= self.marked else self.marked - set(keys)
        )
        self.refresh()
        self.post_message(self.Marked())

    def unmark(self) -> None:
        self.marked.clear()
        self.refresh()
        self.post_message(self.Marked())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.markable if action == "toggle_mark" else True

    def go_to(self, index: int) -> None:
        """Put the cursor on row ``index`` (as the keys would)."""
        self.action_move(index - self.cursor)

    def move_to_end(self) -> None:
        """The last row, in view (once laid out: a list just filled has no height yet)."""
        self.cursor = max(len(self.rows) - 1, 0)
        self.call_after_refresh(self._keep_cursor_visible)
        self.refresh()
        self.post_message(self.Moved(self))

    def _rows_shown(self) -> int:
        """Rows drawn at once: the lines below the header, less a horizontal
        scroll bar's (a wide table at 80 columns has one)."""
        return max(1, self.scrollable_content_region.height - 1)

    def _keep_cursor_visible(self) -> None:
        # line 0 is the header; row i is drawn on line i + 1
        visible = self._rows_shown()
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)

    # drawing ------------------------------------------------------------------
    def _line(self, cells: Sequence[str], mark: str) -> str:
        return (
            mark
            + " "
            + " ".join(cell_text(c, w) for c, (_, w) in zip(cells, self.columns, strict=False))
        )

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            text = self._line([name for name, _ in self.columns], " ")
            style = self.get_component_rich_style("rowlist--header")
        else:
            index = scroll_y + y - 1
            if index >= len(self.rows):
                return Strip.blank(width, self.rich_style)
            key, cells = self.rows[index]
            marked = key in self.marked
            text = self._line(cells, "*" if marked else " ")
            style = self.rich_style
            if marked:
                style = style + self.get_component_rich_style("rowlist--marked")
            if index == self.cursor and self.has_focus:
                style = style + self.get_component_rich_style("rowlist--cursor")
            elif index == self.cursor:
                style = style + self.get_component_rich_style("rowlist--cursor", partial=True)
        strip = Strip([Segment(set_cell_size(text, max(width, len(text))), style)])
        return strip.crop(scroll_x, scroll_x + width)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
