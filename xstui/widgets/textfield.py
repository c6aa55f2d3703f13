"""The console's one-line text field: Textual's Input, its editing keys
acted on in the order they were typed.

Textual sends a field's Backspace, Delete, arrows, Home and End up through
every container to the app's bindings and only then back to the field,
while a letter goes straight in: read together (a fast typist, a slow SSH
link), Backspace then "x" left the field as it was, and Left then "y" put
the "y" before the move. Here the field runs its own editing keys as it
receives them, in its own queue, behind the letters typed before."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

# the field's own keys that move its cursor or change its text (Input's, not
# the scroll keys it inherits, which belong to the form around it); Enter
# (and Tab, Escape: not the field's) go the usual way, to the form
EDITING_KEYS = frozenset(
    key.strip() for b in Input.BINDINGS for key in b.key.split(",") if key.strip() != "enter"
)


class TextField(Input):
    async def _on_key(self, event: events.Key) -> None:
        await super()._on_key(event)  # a letter typed (and the cursor shown)
        if event.key not in EDITING_KEYS or event.is_printable:
            return
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if self.check_action(binding.action, ()) is not False:
                event.stop()
                event.prevent_default()
                await self.run_action(binding.action)
                return
