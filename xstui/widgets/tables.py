"""DataTable rows kept in step with a model, keyed by ref: cells change in
place, so the cursor and scroll position stay where the admin left them
while events stream in."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist


def sync_rows(table: DataTable, rows: Sequence[tuple[str, Sequence]]) -> None:
    """Make ``table`` show ``rows`` ((key, cells) in order) with the fewest changes.
    Text cells are shown as they are: names from XAPI are never markup."""
    rows = [(key, [Text(c) if isinstance(c, str) else c for c in cells]) for key, cells in rows]
    keys = [key for key, _ in rows]
    current = [row_key.value for row_key in table.rows]
    if current != keys:
        if (
            set(current) - set(keys)
            and not set(keys) - set(current)
            and _is_subsequence(keys, current)
        ):
            for key in set(current) - set(keys):
                table.remove_row(key)
        else:
            _rebuild(table, rows)
            return
    columns = list(table.columns)
    for key, cells in rows:
        for column, value in zip(columns, cells, strict=False):
            try:
                if table.get_cell(key, column) != value:
                    table.update_cell(key, column, value)
            except RowDoesNotExist:
                _rebuild(table, rows)
                return


def _is_subsequence(short: list, long: list) -> bool:
    it = iter(long)
    return all(item in it for item in short)


def _rebuild(table: DataTable, rows: Sequence[tuple[str, Sequence]]) -> None:
    """Order or membership changed: redraw, keeping the cursor on the same key."""
    selected = None
    if table.row_count and 0 <= table.cursor_row < table.row_count:
        selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    keys = [key for key, _ in rows]
    if selected in keys:
        table.move_cursor(row=keys.index(selected), animate=False)
