"""A wizard: forms one after another, each keeping what was typed in it.

A wizard is a list of steps; a step (an async function of the :class:`Wizard`)
shows at most one form (:meth:`Wizard.form`), then checks or reads what it
needs (:meth:`Wizard.read`) and may end with the action itself
(:meth:`Wizard.perform`). The rules (docs/DIALOGS.md, "Wizards"):

- Escape on a step's form goes back to the step before, its form showing
  what was typed there; on the first form it cancels. The button says "Back".
- A step that fails after its form (a probe finds nothing, a read is
  refused, the task fails) opens its form again, as typed, with the reason
  in it; a step without a form has the form before it shown with the reason.
- Escape on the plan cancels the whole wizard, as it does anywhere.

A form left at a default keeps no value of its own: going back and changing
an earlier answer gives the later forms their new defaults, and what the
admin typed stays."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from ..services.actions import Action, InvalidInput
from ..services.fields import Field
from .flow import attempt, attempt_read, connected
from .form import BACK, FormModal, refused
from .notice import error_text

Step = Callable[["Wizard"], Awaitable[object]]


class _Back(Exception):
    """Escape on a form: the step before."""


class _Stop(Exception):
    """The wizard ends, nothing done (said already, or cancelled)."""


class _Again(Exception):
    """The step's form again, with ``reason``."""

    def __init__(self, reason: str = ""):
        super().__init__(reason)
        self.reason = reason


class Wizard:
    def __init__(self, app, connection=None):
        """``connection``: the one its actions are for when not the app's
        (pool recovery, its master gone); it need not be live to start."""
        self.app, self.connection = app, connection
        self.steps: list[Step] = []
        self.at = 0  # the step running
        self.problem = ""  # shown in the next form
        self.typed: dict[str, dict] = {}  # by step: what was typed that is not the default
        self.formed: set[int] = set()  # the steps that showed a form

    # what a step calls ------------------------------------------------------------
    async def form(self, title: str, fields: Sequence[Field], build: Callable[[dict], object]):
        """The step's form, with what was typed in it before: what ``build``
        makes of the values (refusals stay in the form)."""
        key = self._key()
        defaults = {f.name: f.value for f in fields}
        kept = self.typed.get(key, {})
        shown = [_with(f, kept[f.name]) if f.name in kept else f for f in fields]
        self.formed.add(self.at)
        back = any(i < self.at for i in self.formed)
        modal = FormModal(title, shown, build, self.problem, back=back)
        self.problem = ""
        result = await self.app.push_screen_wait(modal)
        self.typed[key] = {k: v for k, v in modal.typed.items() if v != defaults.get(k)}
        if result is BACK:
            raise _Back
        if result is None:
            raise _Stop
        return result

    async def read(self, fn, *args, note: str = ""):
        """A read in a thread (see flow.read): its value; when it fails, the
        step's form again with the reason."""
        value, failed = await attempt_read(self.app, fn, *args, note=note)
        if failed is not None:
            raise failed
        return value

    def again(self, reason: str = "") -> None:
        """The step's form again (with ``reason``): a question after it was
        answered "no", a check that refused."""
        raise _Again(reason)

    def follow(self, steps: Sequence[Step]) -> None:
        """The steps after this one (a first answer chose them)."""
        self.steps[self.at + 1 :] = steps
        self.formed = {i for i in self.formed if i <= self.at}

    async def perform(self, action: Action) -> None:
        """The plan and the task: a failure shows in the step's form, as
        typed; a cancelled plan ends the wizard."""
        outcome, message = await attempt(self.app, action, self.connection)
        if outcome == "failed":
            raise _Again(message)
        if outcome != "done":
            raise _Stop
        self.app.notify(message, severity="information", timeout=8)

    # the run ------------------------------------------------------------------------
    async def run(self, steps: Sequence[Step]) -> bool:
        """Every step in turn: True once the last one ended."""
        if self.connection is None and not connected(self.app):
            return False
        self.steps, i = list(steps), 0
        while 0 <= i < len(self.steps):
            self.at = i
            self.formed.discard(i)  # until it shows its form this time
            try:
                await self.steps[i](self)
            except _Stop:
                return False
            except _Back:
                self.problem = ""
                i = self._formed_before(i)
                continue
            except Exception as exc:  # the step's checks, reads or task: in words, in a form
                self.problem = _said(exc, self.app)
            else:
                i += 1
                continue
            if i not in self.formed:  # failed before its form: the form before says why
                i = self._formed_before(i)
                if i < 0:
                    if self.problem:
                        self.app.notify(self.problem, severity="error", timeout=10)
                    return False
        return i == len(self.steps)

    def _formed_before(self, i: int) -> int:
        return max((j for j in self.formed if j < i), default=-1)

    def _key(self) -> str:
        step = self.steps[self.at]
        return getattr(step, "__qualname__", "") or str(self.at)


def _said(exc: Exception, app) -> str:
    if isinstance(exc, _Again):
        return exc.reason
    if isinstance(exc, InvalidInput):
        return refused(exc)
    return error_text(exc, getattr(app.connection, "cache", None))


def _with(field: Field, value) -> Field:
    """The field showing ``value`` (when its list still offers it)."""
    if field.choices:
        chosen = [value] if isinstance(value, str) else list(value)
        if not set(chosen) <= set(field.choices):
            return field
    return replace(field, value=value)
