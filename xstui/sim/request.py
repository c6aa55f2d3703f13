"""An HTTP/1.x request's line and headers, read without the email package.

``http.server`` parses every request's headers with ``email.parser``: half
of the simulator's time per API call (py-spy, ``VM.get_record`` in a loop).
XAPI's clients send a handful of plain ``Name: value`` lines; this reads
them with a few string operations and keeps http.server's answers to what
it refuses (400, 431, 505).
"""

from __future__ import annotations

from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

MAX_LINE = 65536  # http.client's limits
MAX_HEADERS = 100


class HeaderError(Exception):
    """Headers past the limits (answered 431)."""


class Headers(dict[str, str]):
    """A request's headers by lower-cased name; ``get`` takes any case.
    A name sent twice keeps its first value, as ``email.message`` does."""

    def get(self, name: str, default=None):  # type: ignore[override]
        return super().get(name.lower(), default)


def read_headers(rfile) -> Headers:
    """The header lines up to the blank one."""
    headers = Headers()
    for _ in range(MAX_HEADERS + 1):
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise HeaderError("Line too long")
        if line in (b"\r\n", b"\n", b""):
            return headers
        name, colon, value = line.decode("iso-8859-1").partition(":")
        if colon and name.strip():
            headers.setdefault(name.strip().lower(), value.strip())
    raise HeaderError("Too many headers")


class LeanRequest(BaseHTTPRequestHandler):
    """A request handler whose ``parse_request`` uses ``read_headers``."""

    def parse_request(self) -> bool:
        self.command = None  # for send_error, as http.server sets it
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = line.split()
        if not words:
            return False
        if len(words) != 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({line!r})")
            return False
        command, path, version = words
        major, dot, minor = version.removeprefix("HTTP/").partition(".")
        if not (version.startswith("HTTP/") and dot and major.isdigit() and minor.isdigit()):
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
            return False
        if major != "1":
            self.send_error(
                HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, f"Invalid HTTP version ({version})"
            )
            return False
        self.command, self.request_version = command, version
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        self.close_connection = minor == "0" or self.protocol_version < "HTTP/1.1"
        try:
            self.headers = read_headers(self.rfile)
        except HeaderError as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, str(err))
            return False
        connection = self.headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        if (
            self.headers.get("Expect", "").lower() == "100-continue"
            and self.protocol_version >= "HTTP/1.1"
            and minor != "0"
        ):
            return self.handle_expect_100()
        return True
