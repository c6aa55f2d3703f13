"""Facts about dom0, for the local (dom0) target: read through
:class:`LocalSystem`, so a rehearsal (``xstui demo --dom0``) shows the
simulated dom0's, never the machine's the console runs on."""

from __future__ import annotations

import base64
import hashlib

from ..host.local import LOG_DIR, SSH_DIR, LocalError, LocalSystem, Space
from .model import Dom0Status


def ssh_fingerprints(system: LocalSystem) -> dict[str, str]:
    """SHA256 fingerprints of the SSH host keys, as ``ssh-keygen -l`` prints them."""
    out = {}
    for pub in sorted(system.path(SSH_DIR).glob("ssh_host_*_key.pub")):
        try:
            kind, blob = pub.read_text().split()[:2]
            digest = hashlib.sha256(base64.b64decode(blob)).digest()
        except (OSError, ValueError):
            continue
        out[kind] = "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
    return out


def dom0_status(system: LocalSystem) -> Dom0Status:
    """Disk use of / and /var/log, the load and the SSH host keys of ``system``."""
    unknown = Space(0, 0, 0)
    try:
        root = system.space("")
    except LocalError:
        root = unknown
    try:
        logs = system.space(LOG_DIR)
    except LocalError:
        logs = root
    return Dom0Status(
        root.used,
        root.total,
        sum(size for _name, size in system.files(LOG_DIR)),
        logs.used,
        logs.total,
        system.load(),
        ssh_fingerprints(system),
    )
