"""A small JSON-RPC client for XAPI's ``/jsonrpc`` endpoint (XenServer 7.3 and
later). Used for ``event.from``: on a large pool the first call returns tens of
megabytes, which JSON parses about ten times faster than XML-RPC, and which
are parsed as they arrive (:class:`JsonStream`), never all in memory at once."""

from __future__ import annotations

import codecs
import http.client
import itertools
import json
from collections.abc import Callable

from .cache import gc_paused
from .targets import Target
from .transport import MAX_REPLY_BYTES, ReplyTooLarge, deadline, http_connection, read_reply

CHUNK = 256 * 1024
# the containers walked as they arrive (a JSON-RPC reply, its result, and the
# events of an event.from): each of their members is parsed on its own
WALKED = {(): "{", ("result",): "{", ("result", "events"): "["}


class JsonStream:
    """One JSON document parsed from ``read(n) -> bytes`` (UTF-8) as it
    arrives: the containers of WALKED member by member, any other value whole
    (``json``'s own parser, with ``object_hook``), so that what is held at
    once is the values parsed so far and about one chunk of text. ValueError
    for what is not JSON, as json.loads."""

    def __init__(self, read: Callable[[int], bytes], object_hook=None, cap: int = MAX_REPLY_BYTES):
        self._read, self._hook, self._cap = read, object_hook, cap
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        self._json = json.JSONDecoder(object_hook=object_hook)
        self._text, self._at, self._size, self._ended = "", 0, 0, False

    def document(self):
        value = self._value_at(())
        while self._more():  # only blanks may follow
            pass
        if self._text[self._at :].strip():
            raise ValueError("extra data after the JSON document")
        return value

    def _more(self, least: int = 0) -> bool:
        """Read on (at least ``least`` characters more, if there are); False
        once the end had been reached already."""
        if self._ended:
            return False
        text = self._text[self._at :]
        goal = len(text) + max(least, 1)
        while len(text) < goal and not self._ended:
            chunk = self._read(max(CHUNK, least))
            self._size += len(chunk)
            if self._size > self._cap:
                raise ReplyTooLarge(f"the reply is larger than {self._cap} bytes")
            text += self._decoder.decode(chunk, final=not chunk)
            self._ended = not chunk
        self._text, self._at = text, 0
        return True

    def _peek(self) -> str:
        """The next character that is not a blank."""
        while True:
            text, at = self._text, self._at
            while at < len(text) and text[at] in " \t\r\n":
                at += 1
            self._at = at
            if at < len(text):
                return text[at]
            if not self._more():
                raise ValueError("the JSON document ends too soon")

    def _take(self, expected: str) -> str:
        found = self._peek()
        if found not in expected:
            raise ValueError(f"expected one of {expected!r} at {self._size} bytes, not {found!r}")
        self._at += 1
        return found

    def _value(self):
        """One value parsed whole, once all of it has arrived (a value is
        followed by at least one character: a number is never cut short)."""
        self._peek()
        while True:
            try:
                value, end = self._json.raw_decode(self._text, self._at)
                if end < len(self._text) or self._ended:
                    self._at = end
                    return value
            except json.JSONDecodeError:
                if self._ended:
                    raise
            # not all there yet: read as much again as is buffered (no value
            # is parsed more than a few times over)
            self._more(len(self._text) - self._at)

    def _value_at(self, path: tuple[str, ...]):
        kind = WALKED.get(path)
        if kind is None or self._peek() != kind:
            return self._value()
        self._at += 1
        if kind == "[":
            items: list = []
            if self._peek() == "]":
                self._at += 1
                return items
            while True:
                items.append(self._value())
                if self._take(",]") == "]":
                    return items
        members: dict = {}
        if self._peek() != "}":
            while True:
                key = self._value()
                if not isinstance(key, str):
                    raise ValueError("a JSON object's key is not a string")
                self._take(":")
                members[key] = self._value_at((*path, key))
                if self._take(",}") == "}":
                    break
        else:
            self._at += 1
        return self._hook(members) if self._hook is not None else members


class JsonRpcUnavailable(Exception):
    """The host has no JSON-RPC endpoint (older releases): use XML-RPC."""


class JsonRpcFailure(Exception):
    def __init__(self, details: list[str]):
        super().__init__(details)
        self.details = details


class JsonRpcClient:
    def __init__(self, target: Target, fingerprint: str | None, timeout: float):
        self.target, self.fingerprint, self.timeout = target, fingerprint, timeout
        self._conn: http.client.HTTPConnection | None = None
        self._ids = itertools.count(1)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http_connection(self.target, self.fingerprint, self.timeout)
        return self._conn

    def call(self, method: str, params: list, object_hook=None):
        """``object_hook`` sees every JSON object as it is parsed (the event
        cache turns snapshots into records there, so raw dicts never pile up)."""
        body = json.dumps(
            {"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)}
        )
        conn = self._connection()
        try:
            with deadline(conn, self.timeout):
                conn.request("POST", "/jsonrpc", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                if resp.status == 404:
                    read_reply(resp)
                    raise JsonRpcUnavailable(f"HTTP {resp.status}")
                length = resp.getheader("Content-Length")
                if length and length.isdigit() and int(length) > MAX_REPLY_BYTES:
                    raise ReplyTooLarge(f"the reply is {int(length)} bytes, more than the most")
                with gc_paused():  # a first event.from is tens of MB of JSON
                    reply = JsonStream(resp.read, object_hook).document()
        except JsonRpcUnavailable:
            raise
        except (ValueError, RecursionError):
            self.close()  # what is left of the reply is unread
            raise JsonRpcUnavailable("not a JSON-RPC reply") from None
        except Exception:
            self.close()
            raise
        if not isinstance(reply, dict):
            raise JsonRpcUnavailable("not a JSON-RPC reply")
        error = reply.get("error")
        if error:
            if isinstance(error, list):  # XenServer < 7.3 style
                raise JsonRpcFailure([str(e) for e in error])
            data = error.get("data") if isinstance(error.get("data"), list) else []
            raise JsonRpcFailure([str(error.get("message", "INTERNAL_ERROR")), *map(str, data)])
        return reply.get("result")

    def abort(self) -> None:
        """From another thread: end a call in progress (its socket is shut)."""
        conn = self._conn
        if conn is not None and conn.sock is not None:
            try:
                conn.sock.shutdown(2)
            except OSError:
                pass

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
