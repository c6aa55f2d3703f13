"""Minimal terminal output: a shadow of the screen between the program and
its tty, writing only the cells that changed (see ``layer``). No Textual
here; ``driver`` hooks it into Textual's terminal driver."""

from .layer import Capabilities, MinimalOutput

__all__ = ["Capabilities", "MinimalOutput"]
