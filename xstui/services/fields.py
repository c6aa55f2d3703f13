"""What an action asks the admin for, declared next to the action itself:
name, label, initial value, the validator that checks it as it is typed, and
for choices the pick list. Screens show these; they restate no rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass

from .validate import problem

# where the console runs: the files a form names are written and read there
# (the transfer's end), not on the host; said in the labels of paths
HERE = "this machine"


def no_check(text: str) -> str | None:
    return None


def problem_of(check, *args) -> Callable[[str], str | None]:
    """A field check from a service validator: the reason it refuses the text, or None."""
    return lambda text: problem(check, text, *args)


def optional(check: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """Empty is fine; anything else must pass ``check``."""
    return lambda text: check(text) if text.strip() else None


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: str | Sequence[str] = ""
    check: Callable[[str], str | None] = no_check  # the problem, or None
    _: KW_ONLY  # the rest by name: a fifth positional (a placeholder) once became the choices
    choices: Sequence[str] = ()  # a pick list (one of them)
    several: bool = False  # with choices: pick any number of them
    placeholder: str = ""
    # the placeholder made anew from the form's values as they change (a default that follows them)
    placeholder_of: Callable[[dict], str] | None = None
    password: bool = False
    # shown only while the form's values make it apply (a storage kind's own
    # fields); hidden, it is empty in what the form gives
    shown_if: Callable[[dict], bool] | None = None


def host_list(name: str, label: str, value: str, choices: Sequence[str], what: str) -> Field:
    """A pick from one of the host's own lists (time zones, keyboard layouts):
    type the first letters to jump there; anything else is refused, naming ``what``."""
    return Field(
        name,
        label,
        value,
        lambda text: None if text in choices else f"choose one of this host's {what}",
        choices=choices,
    )
