"""Explicit XAPI messages, one module per class family. Importing registers them."""

from . import event, session, task  # noqa: F401
