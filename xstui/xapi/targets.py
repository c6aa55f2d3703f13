"""What the user asked to connect to: ``local``, ``demo`` or a URL."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

DOM0_SOCKET = "/var/lib/xcp/xapi"


class TargetError(ValueError):
    """A target string that cannot be used; the message says why."""


@dataclass(frozen=True)
class Target:
    kind: str  # "local", "demo" or "remote"
    scheme: str = ""  # http / https for remote
    host: str = ""
    port: int = 0  # local: the port the pool's other hosts answer HTTPS on (443 unless set)
    socket_path: str = ""
    label: str = ""  # what the header says instead of the URL (the demo's "demo")

    @property
    def shown(self) -> str:
        """How the console names it on screen."""
        return self.label or self.url

    @property
    def url(self) -> str:
        if self.kind == "local":
            return f"unix:{self.socket_path}"
        if self.kind == "demo":
            return "demo"
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}{port}"

    @property
    def encrypted(self) -> bool:
        """Local (unix socket) and https are private; plain http is not."""
        return self.kind == "local" or self.scheme == "https"

    @property
    def trust_key(self) -> str:
        """Where a pinned certificate is filed: host:port."""
        return f"{self.host}:{self.port}"

    def with_host(self, host: str) -> Target:
        """Another host of the pool: the same scheme and port at ``host`` (a
        pool master we were sent to). dom0's socket reaches its own host only,
        so from a local target another host is reached over HTTPS at its
        address (a remote target; the caller checks its certificate)."""
        if self.kind == "local":
            return Target("remote", "https", host, self.port or 443)
        return replace(self, host=host)


def dom0_socket() -> str:
    return os.environ.get("XSTUI_XAPI_SOCKET", DOM0_SOCKET)


def in_dom0() -> bool:
    return os.path.exists(dom0_socket())


def parse_target(text: str) -> Target:
    """``local``, ``demo``, ``https://host[:port]``, ``http://host:port`` or a bare
    host name (taken as https)."""
    text = (text or "").strip()
    if not text:
        raise TargetError("no target given: use local, demo or https://HOST")
    if text == "local":
        return Target("local", socket_path=dom0_socket())
    if text == "demo":
        return Target("demo")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise TargetError(f"{text}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetError(f"{text}: only https:// (or http:// for labs) is supported")
    if not parts.hostname:
        raise TargetError(f"{text}: no host name")
    if parts.path not in ("", "/") or parts.query:
        raise TargetError(f"{text}: give only scheme, host and port")
    if port == 0:
        raise TargetError(f"{text}: port 0 is not a port a host listens on")
    host = parts.hostname
    if any(len(label) > 63 for label in host.split(".")) or len(host) > 253:
        raise TargetError(f"{text}: a host name has labels of at most 63 characters (253 in all)")
    try:
        host.encode("idna")
    except UnicodeError:
        raise TargetError(f"{text}: {host!r} is not a valid host name") from None
    return Target("remote", parts.scheme, host, port or (443 if parts.scheme == "https" else 80))
