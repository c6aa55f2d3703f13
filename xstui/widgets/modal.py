"""What every dialog shares: a framed box centred on the screen that fits an
80x24 console (text wraps, the buttons stay visible), closed with Escape."""

from __future__ import annotations

from textual.screen import ModalScreen


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
    Dialog .dialog-buttons Button { margin-left: 1; }
    """
