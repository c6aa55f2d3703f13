"""What every dialog shares: a framed box centred on the screen that fits an
80x24 console (text wraps, the buttons stay visible), closed with Escape.
The grammar every dialog follows is written down in docs/DIALOGS.md; the
button row (:func:`buttons`) is where most of it lives."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.css.scalar import Unit
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.worker import Worker

from .notice import clear_notices

MORE_BELOW = "PgDn more below"


class ButtonRow(Vertical):
    """The button row: the way back first, the way on last, and left of them
    what Enter and Escape do, in words. When the words and the buttons do not
    fit one line (many buttons, long labels, 80 columns), the words go on a
    line of their own above the buttons rather than being cut."""

    DEFAULT_CSS = """
    ButtonRow { height: auto; margin-top: 1; }
    ButtonRow .dialog-buttons { height: auto; align-horizontal: right; }
    ButtonRow .dialog-buttons Button { margin-left: 1; min-width: 10; }
    ButtonRow .dialog-hint { width: 1fr; height: 1; color: $text-muted; }
    ButtonRow > .dialog-hint-above { width: 100%; height: auto; display: none; color: $text-muted; }
    ButtonRow.-stacked > .dialog-hint-above { display: block; }
    ButtonRow.-stacked .dialog-hint { display: none; }
    """

    def __init__(self, back: Button, *on: Button, hint: str = "") -> None:
        super().__init__()
        self.back, self.on = back, on
        keys = f"Enter {on[-1].label}  Esc {back.label}" if on else f"Enter, Esc {back.label}"
        self.keys = f"{keys}  {hint}" if hint else keys  # what the row always says
        self.said = self.keys

    def compose(self) -> ComposeResult:
        yield Static(self.said, classes="dialog-hint-above", markup=False)
        with Horizontal(classes="dialog-buttons"):
            yield Static(self.said, classes="dialog-hint", markup=False)
            yield self.back
            yield from self.on

    def say(self, hint: str = "") -> None:
        """What the row says beside Enter, Escape and its own hint (``hint``:
        more of it, for now: "PgDn more below")."""
        said = f"{self.keys}  {hint}" if hint else self.keys
        if said != self.said:
            self.said = said
            for static in self.query(".dialog-hint, .dialog-hint-above").results(Static):
                static.update(said)
            self.fit()

    def on_resize(self, event: events.Resize) -> None:
        self.fit()

    def fit(self) -> None:
        """The words inline or above, as they fit (again once a button is
        shown or hidden: call after the refresh)."""
        buttons = (self.back, *self.on)  # a hidden one is 0 wide
        needed = len(self.said) + sum(b.outer_size.width for b in buttons)
        width = self.content_size.width
        self.set_class(bool(width) and needed > width, "-stacked")


def buttons(back: Button, *on: Button, hint: str = "") -> ButtonRow:
    """The button row: the way back (Cancel, Close) first, the way on last;
    the way on is the default (Enter), and the row says so, in words, left
    of the buttons: what Enter and Escape do (``hint`` adds to it)."""
    return ButtonRow(back, *on, hint=hint)


class Dialog(ModalScreen):
    """A dialog's box. Opening it clears the notices shown before it (they
    were about what came before, and at 80x24 a long one would cover it);
    notices that come while it is up are shown at the top, never over its
    buttons. A body that scrolls (the first VerticalScroll) pages with PgDn
    and PgUp, and the button row says "PgDn more below" until its end is seen."""

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
    /* notices go to the top while a dialog is up, and never reach down to its
       buttons (a box centred on the screen has them in its lower half) */
    Dialog ToastRack { dock: top; align: right top; margin-bottom: 0; max-height: 50%; }
    """
    BINDINGS = [
        Binding("pagedown", "page(1)", "More", id="dialog.more", show=False),
        Binding("pageup", "page(-1)", "Back up", id="dialog.back", show=False),
        # the body scrolls from wherever the focus is, unless the focused
        # widget uses the key itself (a form's field, a list)
        Binding("down", "line(1)", "Down", id="dialog.down", show=False),
        Binding("up", "line(-1)", "Up", id="dialog.up", show=False),
        Binding("end", "end(1)", "End", id="dialog.end", show=False),
        Binding("home", "end(-1)", "Home", id="dialog.home", show=False),
    ]

    def on_mount(self) -> None:
        clear_notices(self.app)
        body = self._body()
        if body is not None:
            self._fit_body()
            self.watch(body, "scroll_y", self._more_below, init=False)
            self.watch(body, "virtual_size", self._more_below, init=False)
            self.call_after_refresh(self._more_below)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker of the dialog failed: said as the app's are (the message
        does not bubble to the app)."""
        self.app.on_worker_state_changed(event)

    def _body(self) -> VerticalScroll | None:
        try:
            return self.query(VerticalScroll).first()
        except NoMatches:
            return None

    def on_resize(self, event: events.Resize) -> None:
        self._fit_body()

    def _fit_body(self) -> None:
        """The body's max-height in lines of this screen. Given as a share of
        the screen (``vh``), Textual counted it larger when it sized the box
        than when it drew the body: at 80x24 a plan's box had two empty rows
        under its buttons and its last line could not be scrolled to."""
        body = self._body()
        if body is None:
            return
        if self._body_share is None:
            limit = body.styles.max_height
            self._body_share = limit.value if limit and limit.unit is Unit.VIEW_HEIGHT else 0
        if self._body_share:
            body.styles.max_height = max(3, int(self.app.size.height * self._body_share / 100))

    _body_share: float | None = None  # the body's max-height as a share of the screen, once read

    def action_page(self, direction: int) -> None:
        body = self._body()
        if body is not None:
            (body.scroll_page_down if direction > 0 else body.scroll_page_up)(animate=False)

    def action_line(self, direction: int) -> None:
        body = self._body()
        if body is not None:
            (body.scroll_down if direction > 0 else body.scroll_up)(animate=False)

    def action_end(self, direction: int) -> None:
        body = self._body()
        if body is not None:
            (body.scroll_end if direction > 0 else body.scroll_home)(animate=False)

    def _more_below(self, *_) -> None:
        """A body longer than the box says so beside the buttons."""
        body = self._body()
        try:
            row = self.query_one(ButtonRow)
        except NoMatches:
            return
        if body is not None:
            row.say(MORE_BELOW if body.max_scroll_y > body.scroll_offset.y else "")


class ResultModal(Dialog):
    """What is left to keep once something is done (where a file went and
    how to use it, a test's answers): shown until the admin closes it, never
    only in a notice that goes by itself. Enter and Escape close it."""

    DEFAULT_CSS = "ResultModal #result-body { height: auto; max-height: 70vh; }"
    BINDINGS = [Binding("escape", "close", "Close", id="result.close")]

    def __init__(self, title: str, text: str | Text = "") -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(id="result-body"):
                yield Static(self.text, id="result-text", markup=False)
            yield buttons(Button("Close", id="close", variant="primary", compact=True))

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def show(self, text: str | Text) -> None:
        """New words in the body (a result that comes in bit by bit)."""
        self.text = text
        self.query_one("#result-text", Static).update(text)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
