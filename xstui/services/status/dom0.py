"""Facts about the machine xstui runs on, for the local (dom0) target."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import psutil

from .model import Dom0Status


def _tree_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path, onerror=lambda e: None):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                continue
    return total


def ssh_fingerprints(folder: str = "/etc/ssh") -> dict[str, str]:
    """SHA256 fingerprints of the SSH host keys, as ``ssh-keygen -l`` prints them."""
    out = {}
    for pub in sorted(Path(folder).glob("ssh_host_*_key.pub")):
        try:
            kind, blob = pub.read_text().split()[:2]
            digest = hashlib.sha256(base64.b64decode(blob)).digest()
        except (OSError, ValueError):
            continue
        out[kind] = "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
    return out


def dom0_status(log_dir: str = "/var/log") -> Dom0Status:
    root = psutil.disk_usage("/")
    try:
        logs = psutil.disk_usage(log_dir)
        log_bytes = _tree_size(log_dir)
    except OSError:
        logs, log_bytes = root, 0
    return Dom0Status(
        root.used,
        root.total,
        log_bytes,
        logs.used,
        logs.total,
        tuple(os.getloadavg()),
        ssh_fingerprints(),
    )
