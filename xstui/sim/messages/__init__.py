"""Explicit XAPI messages, one module per class family. Importing registers them."""

from . import event, host, session, task, vm  # noqa: F401
