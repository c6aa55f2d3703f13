"""Bulk data to and from XAPI's HTTP handlers (pool database, host backup,
VM export), streamed in 1 MiB blocks over the connection's own transport
(the unix socket in dom0, TLS pinned to the host's certificate, or plain
HTTP): memory stays flat whatever the size.

A download is written atomically (:func:`xstui.files.atomic_open`): a
cancelled or broken transfer never leaves half a file under the final name,
its temporary file is removed and the error says how far it got."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from ..files import atomic_open
from . import views
from .connection import Connection
from .errors import describe
from .transport import http_connection

BLOCK = 1 << 20
TIMEOUT = 120  # seconds without a byte before a transfer is given up


class TransferFailed(Exception):
    """A transfer that did not complete; the message says why, in words."""


class TransferCancelled(TransferFailed):
    pass


class TransferUnanswered(TransferFailed):
    """An upload whose every byte was sent, and whose answer never came: the
    host may have acted on it (a restore whose toolstack restarts at once)."""


def _http(conn: Connection, host: str = "", timeout: float = TIMEOUT):
    """To the pool's connection target, or to one of its hosts (``host``: a
    host ref; its address, and over TLS the fingerprint the pool's own
    Certificate record gives for it)."""
    target, pin = conn.target, conn.pin(conn.target.trust_key)
    if host and host != conn.this_host:
        if target.kind == "local":
            raise TransferFailed(
                "in dom0 the console reaches its own host only: run it on that host, or remotely"
            )
        with conn.cache.lock:
            rec = conn.cache.get("host", host)
            cert = views.host_certificate_records(conn.cache).get(host)
        if rec is None:
            raise TransferFailed("the host is no longer in the pool")
        target = target.with_host(rec.address)
        pin = views.certificate_fingerprint(cert) if cert is not None else None
    return http_connection(target, pin, timeout)


def _url(conn: Connection, path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode({'session_id': conn.session_ref, **query})}"


def _refusal(status: int, body: bytes) -> TransferFailed:
    words = body.decode(errors="replace").split()
    if status == 500 and words and words[0].isupper():
        return TransferFailed(f"the host refused: {describe(words)} [{words[0]}]")
    return TransferFailed(f"the host answered HTTP {status}: {' '.join(words)[:200]}")


def download(
    conn: Connection,
    path: str,
    query: dict[str, str],
    dest: Path,
    *,
    progress: Callable[[int], None] = lambda done: None,
    cancel: threading.Event | None = None,
    tap: Callable[[bytes], object] = lambda block: None,
    host: str = "",
) -> int:
    """GET ``path`` into ``dest`` (written atomically: nothing is left of a
    broken transfer); the bytes written. ``tap`` sees each block as it comes
    (a checksum); what it raises stops the download, and nothing is kept.
    ``host``: ask that host of the pool rather than the master."""
    http = _http(conn, host)
    done = 0
    try:
        http.request("GET", _url(conn, path, query))
        response = http.getresponse()
        if response.status != 200:
            raise _refusal(response.status, response.read(4096))
        # backups hold secrets (the database keeps SR passwords): owner only
        with atomic_open(dest) as out:
            while block := response.read(BLOCK):
                if cancel is not None and cancel.is_set():
                    raise TransferCancelled(f"cancelled after {_mb(done)}; nothing was kept")
                out.write(block)
                tap(block)
                done += len(block)
                progress(done)
        return done
    except TransferFailed:
        raise
    except OSError as exc:
        raise TransferFailed(
            f"the transfer broke after {_mb(done)} ({exc}); the partial file was removed"
        ) from None
    finally:
        http.close()


def get_bytes(
    conn: Connection,
    path: str,
    query: dict[str, str],
    *,
    limit: int,
    host: str = "",
    timeout: float = TIMEOUT,
) -> bytes:
    """GET a small document (at most ``limit`` bytes) into memory; ``host``:
    from that host of the pool rather than the master; ``timeout``: seconds
    without a byte before it is given up."""
    http = _http(conn, host, timeout)
    try:
        http.request("GET", _url(conn, path, query))
        response = http.getresponse()
        if response.status != 200:
            raise _refusal(response.status, response.read(4096))
        body = response.read(limit + 1)
        if len(body) > limit:
            raise TransferFailed(f"the host's answer to {path} is larger than {_mb(limit)}")
        return body
    except OSError as exc:
        raise TransferFailed(f"reading {path} broke ({exc})") from None
    finally:
        http.close()


def upload(
    conn: Connection,
    path: str,
    query: dict[str, str],
    source: Path,
    *,
    progress: Callable[[int], None] = lambda done: None,
    cancel: threading.Event | None = None,
    tap: Callable[[bytes], object] = lambda block: None,
    host: str = "",
) -> None:
    """PUT the file ``source`` to ``path``; TransferFailed with the host's
    refusal. ``tap`` sees each block as it goes (a checksum); what it raises
    stops the upload. ``host``: to that host of the pool rather than the master."""
    http = _http(conn, host)
    done = 0
    try:
        size = source.stat().st_size
        http.putrequest("PUT", _url(conn, path, query))
        http.putheader("Content-Length", str(size))
        http.putheader("Content-Type", "application/octet-stream")
        http.endheaders()
        with open(source, "rb") as data:
            while block := data.read(BLOCK):
                if cancel is not None and cancel.is_set():
                    raise TransferCancelled(f"cancelled after {_mb(done)}")
                http.send(block)
                tap(block)
                done += len(block)
                progress(done)
        response = http.getresponse()
        if response.status != 200:
            raise _refusal(response.status, response.read(4096))
    except TransferFailed:
        raise
    except OSError as exc:
        if done == size:
            raise TransferUnanswered(
                f"the connection broke after the whole file ({_mb(done)}) was sent, before "
                f"the host answered ({exc})"
            ) from None
        raise TransferFailed(f"the upload broke after {_mb(done)} ({exc})") from None
    finally:
        http.close()


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"
