"""What every dialog shares: a framed box centred on the screen that fits an
80x24 console (text wraps, the buttons stay visible), closed with Escape.
The grammar every dialog follows is written down in docs/DIALOGS.md; the
button row (:func:`buttons`) is where most of it lives."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Static


def buttons(back: Button, *on: Button, hint: str = "") -> Horizontal:
    """The button row: the way back (Cancel, Close) first, the way on last;
    the way on is the default (Enter), and the row says so, in words, left
    of the buttons: what Enter and Escape do (``hint`` adds to it)."""
    last = on[-1] if on else back
    said = f"Enter {last.label}" + (f"  Esc {back.label}" if on else "")
    row = Horizontal(
        Static(f"{said}  {hint}" if hint else said, classes="dialog-hint", markup=False),
        back,
        *on,
        classes="dialog-buttons",
    )
    return row


class Dialog(ModalScreen):
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    Dialog.-warning > Vertical, Dialog.-medium > Vertical { border: thick $warning; }
    Dialog.-high > Vertical { border: thick $error; }
    Dialog .dialog-title { text-style: bold; width: 100%; }
    Dialog .dialog-text { width: 100%; height: auto; }
    Dialog .dialog-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    Dialog .dialog-buttons Button { margin-left: 1; min-width: 10; }
    Dialog .dialog-hint { width: 1fr; height: 1; color: $text-muted; }
    /* notices go to the top while a dialog is up: its buttons are at the bottom */
    Dialog ToastRack { dock: top; align: right top; margin-bottom: 0; }
    """
