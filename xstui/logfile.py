"""The console's own log (unexpected errors, with tracebacks) in the XDG state
folder, rotated, readable by its owner only. Notices point to it."""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from .xapi.config import state_dir

LOG_NAME = "xstui.log"


def log_path() -> Path:
    return state_dir() / LOG_NAME


def setup_logging() -> Path | None:
    """Send the ``xstui`` logger to the rotating log file; None when it cannot be opened."""
    logger = logging.getLogger("xstui")
    path = log_path()
    if any(getattr(h, "baseFilename", None) == str(path) for h in logger.handlers):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600, exist_ok=True)
        os.chmod(path, 0o600)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3)
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return path
