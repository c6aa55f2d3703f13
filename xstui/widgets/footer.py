"""The footer every screen shows: Textual's, recomposed only when what it
shows changes. Textual's footer recomposes (a new widget per key, each
styled) on every change of the screen's bindings: a dozen times for one tab
key (focus moves, check_action refreshes), most of them leaving the same keys
shown."""

from __future__ import annotations

from textual.widgets import Footer


class KeysFooter(Footer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._composed: tuple | None = None  # what was shown when last composed
        self._asked = False  # a recompose is waiting for the next refresh
        # the keys in the screen's first frame (Textual's footer composes
        # empty, then again once told of the bindings)
        self.set_reactive(Footer._bindings_ready, True)

    def compose(self):
        self._composed = self.shown()
        yield from super().compose()

    def shown(self) -> tuple:
        """What ``compose`` draws from: each shown binding, its key as the
        keymap has it, whether it is enabled, and the palette's key."""
        return tuple(
            (binding.key, self.app.get_key_display(binding), binding.description)
            + (binding.action, enabled, tooltip, binding.group)
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show or binding.action == "command_palette"
        ) + (self.show_command_palette, self.compact)

    def bindings_changed(self, screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or self._asked:
            return
        if self.is_attached and screen is self.screen:
            self._asked = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._asked = False
        if not self.is_attached:  # its screen went meanwhile (another pool opened)
            return
        shown = self.shown()
        if shown != self._composed:
            self._composed = shown
            await self.recompose()
