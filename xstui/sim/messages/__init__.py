"""Explicit XAPI messages, one module per class family. Importing registers them."""

from . import event, host, network, session, task, vm  # noqa: F401
