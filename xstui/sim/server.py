"""HTTP(S) and unix-socket listeners speaking XAPI's protocols.

One listener per host address: the master's answers the API, a member's
answers logins with ``HOST_IS_SLAVE [master address]`` as XAPI does.
"""

from __future__ import annotations

import email.utils
import errno
import functools
import ipaddress
import os
import socket
import socketserver
import ssl
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from ..datamodel import http_permission
from ..xapi.tls import self_signed
from . import rrd, transfers
from .api import Caller
from .errors import DropConnection, XapiError
from .request import LeanRequest
from .simulator import Simulator
from .wire import (
    WireError,
    failure,
    json_response,
    parse_json_call,
    parse_xml_call,
    success,
    xml_response,
)

MAX_REQUEST_BYTES = 32 * 1024 * 1024  # far above any API call; a bigger body is refused
TLS_HANDSHAKE_SECONDS = 10
SMALL_REPLY = 1 << 20  # bytes: a reply this small goes out with its headers


class _Received:
    """A connection's incoming file, its bytes tallied (one thread reads it:
    no lock) until the reply takes them (``_Sent``)."""

    def __init__(self, file) -> None:
        self._file = file
        self.tally = 0

    def read(self, *args):
        data = self._file.read(*args)
        self.tally += len(data)
        return data

    def readline(self, *args):
        line = self._file.readline(*args)
        self.tally += len(line)
        return line

    def take(self) -> int:
        n, self.tally = self.tally, 0
        return n

    def __getattr__(self, name):
        return getattr(self._file, name)


class _Sent:
    """A connection's outgoing file: each write adds itself, and what was
    received since the last, to the simulator's ``wire`` (headers included),
    in one locked addition, before the client can read the reply."""

    def __init__(self, file, received: _Received, sim: Simulator) -> None:
        self._file, self._received, self._sim = file, received, sim

    def write(self, data):
        self._sim.count_wire(self._received.take(), len(data))
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)


@functools.lru_cache(maxsize=2)
def _http_date(second: int) -> str:
    return email.utils.formatdate(second, usegmt=True)


class _Handler(LeanRequest):
    protocol_version = "HTTP/1.1"
    server_version = "xapi"
    sim: Simulator
    host_ref: str | None
    trusted = False

    def log_message(self, *args):  # quiet: the CLI prints what matters
        pass

    def setup(self):
        super().setup()
        if self.connection.family != socket.AF_UNIX:
            # a reply goes out at once instead of waiting ~40 ms for the
            # client's delayed ACK on a kept-alive connection
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = _Received(self.rfile)
        self.wfile = _Sent(self.wfile, self.rfile, self.sim)
        self.server.open_connections.add(self.connection)

    def finish(self):
        self.server.open_connections.discard(self.connection)
        super().finish()

    def _caller(self) -> Caller:
        return Caller(host=self.host_ref, trusted=self.trusted)

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        """The reply, written as send_response and send_header would (the
        head made by one format: a tenth of an API call's time otherwise)."""
        head = (
            f"{self.protocol_version} {code} {HTTPStatus(code).phrase}\r\n"
            f"Server: {self.server_version}\r\nDate: {_http_date(int(time.time()))}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        if len(body) <= SMALL_REPLY:  # with its headers, in one write: one packet, not two
            self.wfile.write(head + body)
        else:
            self.wfile.write(head)
            self.wfile.write(body)

    def _outcome(self, method: str, params: list) -> dict:
        if self.sim.latency:
            time.sleep(self.sim.latency)
        try:
            return success(self.sim.call(method, params, self._caller()))
        except XapiError as err:
            return failure(err.description)
        except DropConnection:
            raise
        except Exception as exc:  # a bug in the simulator: report it XAPI-style
            return failure(["INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"])

    def do_POST(self):  # noqa: N802
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_REQUEST_BYTES:
            self.close_connection = True
            self._send(
                413 if length > 0 else 400,
                f"request body must have a Content-Length of at most {MAX_REQUEST_BYTES} bytes\n".encode(),
                "text/plain",
            )
            return
        body = self.rfile.read(length)
        path = urlparse(self.path).path
        try:
            if path == "/jsonrpc":
                method, params, req_id, version = parse_json_call(body)
                out = json_response(self._outcome(method, params), req_id, version)
                self._send(200, out, "application/json")
            elif path in ("/", "/RPC2"):
                method, params = parse_xml_call(body)
                self._send(200, xml_response(self._outcome(method, params)), "text/xml")
            else:
                self._send(404, b"not found\n", "text/plain")
        except DropConnection:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        except (WireError, RecursionError, ValueError) as exc:  # what a parser refuses
            self._send(500, f"malformed request: {type(exc).__name__}\n".encode(), "text/plain")

    def _transfer(self, query: dict[str, str]) -> transfers.Transfer | None:
        """The request's session, task and role checked; None when refused (said)."""
        permission = http_permission(self.command, urlparse(self.path).path)
        try:
            return transfers.Transfer(self.sim, query, permission or "")
        except XapiError as err:
            self.close_connection = True
            self._send(403, f"forbidden: {' '.join(err.description)}\n".encode(), "text/plain")
            return None

    def _stream(self, transfer: transfers.Transfer, write) -> None:
        """A reply of unknown length: headers, the body as it is made, then
        the connection closes (as XAPI's export does)."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            write(self.wfile)
            self.wfile.flush()
        except XapiError as err:
            transfer.done(err.description)
            return
        except OSError:  # the client went away: its task says so
            transfer.done(["TASK_CANCELLED", transfer.task or ""])
            return
        except Exception as exc:  # a bug in the simulator: reported XAPI-style, not raised
            transfer.done(["INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"])
            return
        transfer.done()

    def do_GET(self):  # noqa: N802
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path not in (
            "/pool/xmldbdump",
            "/host_backup",
            "/export",
            "/export_metadata",
            "/updates",
            "/system-status",
            "/rrd_updates",
            "/host_rrd",
            "/vm_rrd",
        ):
            self._send(404, b"not found\n", "text/plain")
            return
        transfer = self._transfer(query)
        if transfer is None:
            return
        sim = self.sim
        try:
            if url.path in ("/rrd_updates", "/host_rrd", "/vm_rrd"):  # the host's own rrdd
                sim.count_get(url.path)
                code, body, ctype = rrd.http_get(sim, self.host_ref or sim.master, url.path, query)
                transfer.done(None if code == 200 else [f"HTTP {code}"])
                self._send(code, body, ctype)
            elif url.path == "/pool/xmldbdump":
                body = transfers.database(sim)
                transfer.done()
                self._send(200, body, "application/xml")
            elif url.path == "/export_metadata":
                body = transfers.export_metadata(sim, query.get("uuid", ""))
                transfer.done()
                self._send(200, body, "application/x-tar")
            elif url.path == "/updates":
                body = transfers.updates_json(sim)
                transfer.done()
                self._send(200, body, "application/json")
            elif url.path == "/system-status":  # the report of the host asked
                body = transfers.status_report(sim, self.host_ref or sim.master)
                transfer.done()
                self._send(200, body, "application/x-bzip2")
            elif url.path == "/host_backup":
                self._stream(transfer, lambda out: transfers.host_backup(sim, transfer, out))
            else:
                with sim.store.lock:  # refusals before any byte: an HTTP error
                    ref = sim.store.ref_by_uuid("VM", query.get("uuid", ""))
                    state = sim.store.get("VM", ref)["power_state"]
                if state not in ("Halted", "Suspended"):
                    raise XapiError("VM_BAD_POWER_STATE", ref, "halted", state.lower())
                self._stream(
                    transfer, lambda out: transfers.export_vm(sim, transfer, query["uuid"], out)
                )
        except XapiError as err:
            transfer.done(err.description)
            self._send(500, (" ".join(err.description) + "\n").encode(), "text/plain")

    def do_PUT(self):  # noqa: N802
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path not in (
            "/pool/xmldbdump",
            "/import",
            "/import_metadata",
            "/import_raw_vdi",
            "/pool_patch_upload",
        ):
            self.close_connection = True
            self._send(404, b"not found\n", "text/plain")
            return
        self.close_connection = True  # an unread body must not be taken for a request
        transfer = self._transfer(query)
        if transfer is None:
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        dry_run = query.get("dry_run", "") == "true"
        result = ""
        drop = self.sim.take_drop(f"PUT {url.path}")
        if drop == "before":  # the body is read, then the connection drops unanswered
            while length > 0 and (block := self.rfile.read(min(1 << 20, length))):
                length -= len(block)
            return
        try:
            if url.path == "/import_raw_vdi":
                transfers.import_raw_vdi(self.sim, transfer, self.rfile, length)
                refs = []
            elif url.path == "/pool_patch_upload":
                result = transfers.upload_patch(self.sim, transfer, self.rfile, length)
                refs = [result]
            elif url.path == "/import_metadata":
                refs = transfers.import_metadata(self.sim, self.rfile, length, dry_run)
            elif url.path == "/import":
                if "chunked" in self.headers.get("Transfer-Encoding", ""):
                    raise XapiError("IMPORT_ERROR_CANNOT_HANDLE_CHUNKED")
                refs = transfers.import_vm(self.sim, transfer, self.rfile, length)
                result = refs  # the task's result: the VMs made (a VM ref set)
            else:
                transfers.restore_database(self.sim, self.rfile, length, dry_run)
                refs = []
        except XapiError as err:
            transfer.done(err.description)
            self._send(500, (" ".join(err.description) + "\n").encode(), "text/plain")
            return
        if drop == "after":  # it was done; the host went before its task or answer
            return
        transfer.done(result=result)
        self._send(200, " ".join(refs).encode(), "text/plain")


class _Tracking:
    """Remembers open client connections so that closing the server drops
    them, as a host that dies or restarts its toolstack would."""

    def __init__(self, *args, **kwargs):
        self.open_connections: set[socket.socket] = set()
        super().__init__(*args, **kwargs)

    def handle_error(self, request, client_address) -> None:
        # A client that went away mid-reply (the TUI quitting, a dropped
        # connection) is normal for a server; anything else is reported.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | OSError):
            super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        for conn in list(self.open_connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _TCPServer(_Tracking, ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls: ssl.SSLContext | None = None

    def finish_request(self, request, client_address):
        """Runs in the connection's own thread: the TLS handshake happens here,
        with a deadline, so an idle or slow client never holds up the others."""
        if self.tls is not None:
            request.settimeout(TLS_HANDSHAKE_SECONDS)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return  # shutdown_request closes the raw socket
            request.settimeout(None)
        super().finish_request(request, client_address)

    def server_bind(self):
        # HTTPServer.server_bind resolves its own name (reverse DNS, ~80 ms a
        # listener); the simulator knows its address.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _ControlServer(_Tracking, ThreadingHTTPServer):
    daemon_threads = True


class _UnixServer(_Tracking, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _UnixHandler(_Handler):
    trusted = True

    def address_string(self):
        return "unix"


@dataclass
class Listener:
    url: str
    host_ref: str | None
    server: socketserver.BaseServer
    kind: str = "xapi"  # "xapi" (TCP), "unix" (dom0's socket, the master's) or "control"


def self_signed_certificate(names: list[str]) -> tuple[bytes, bytes, str]:
    """(cert PEM, key PEM, SHA-256 fingerprint) of a fresh self-signed certificate."""
    key_pem, cert_pem, fingerprint = self_signed(names[0], names)
    return cert_pem, key_pem, fingerprint


def _tls_context(names: list[str]) -> tuple[ssl.SSLContext, str, bytes]:
    """(context, SHA-256 fingerprint, certificate PEM) of a fresh certificate."""
    cert, key, fingerprint = self_signed_certificate(names)
    with tempfile.TemporaryDirectory() as tmp:
        cpath, kpath = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
        with open(cpath, "wb") as f:
            f.write(cert)
        with open(kpath, "wb") as f:
            f.write(key)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cpath, kpath)
    return ctx, fingerprint, cert


class SimServer:
    """Runs listeners for a :class:`Simulator` in background threads."""

    def __init__(self, sim: Simulator):
        self.sim = sim
        sim.on_address_change = self.move_listener
        sim.on_host_down, sim.on_host_up = self.stop_host, self.restart_host
        self.listeners: list[Listener] = []
        self.stopped: dict[str, list[tuple[str, int]]] = {}  # host -> its (address, port)s
        self.closed = False
        # a listener is started, and the server closed, under this lock: a
        # restart or move scheduled before close() cannot leave one serving
        self._lifecycle = threading.Lock()
        self.fingerprint: str | None = None
        self._ssl: ssl.SSLContext | None = None
        self.host_tls: dict[str, ssl.SSLContext] = {}  # a host's own certificate, once reset
        self._pem = b""  # the certificate every host serves (PEM), unless it has its own
        self.host_pem: dict[str, bytes] = {}  # a host's own certificate (PEM)
        sim.served_certificate = self.served_certificate
        sim.on_certificate_reset = self.reset_certificate
        sim.on_certificate_install = self.install_certificate
        sim.on_host_joined = self.serve_joined
        self.pool_port = 0  # the port every host of the pool listens on (serve_pool)

    def enable_tls(self, names: list[str], *, own_certificates: bool = False) -> str:
        """HTTPS for every listener, with one certificate for ``names`` (the
        master's: ``fingerprint``). ``own_certificates``: every other host
        serves a certificate of its own, and the pool's Certificate records
        carry what each host serves, as in a real pool (without it, every host
        serves the master's, and the records are made up)."""
        self._ssl, self.fingerprint, self._pem = _tls_context(names)
        if own_certificates:
            st = self.sim.store
            for ref, host in st.table("host").items():
                if ref == self.sim.master:
                    fingerprint = self.fingerprint
                else:
                    names = [host["address"], host["hostname"] or host["name_label"]]
                    self.host_tls[ref], fingerprint, self.host_pem[ref] = _tls_context(names)
                for cert in st.find("Certificate", host=ref, type="host"):
                    st.set(
                        "Certificate", cert, fingerprint=fingerprint, fingerprint_sha256=fingerprint
                    )
        return self.fingerprint

    def install_certificate(
        self, host_ref: str, cert_pem: bytes, key_pem: bytes, chain_pem: bytes
    ) -> None:
        """The host serves this certificate (and chain) from now on."""
        if self._ssl is None:
            return  # plain HTTP: only the record changes
        with tempfile.TemporaryDirectory() as tmp:
            cpath, kpath = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
            with open(cpath, "wb") as f:
                f.write(cert_pem + chain_pem)
            with open(kpath, "wb") as f:
                f.write(key_pem)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cpath, kpath)
        self.host_tls[host_ref] = ctx
        self.host_pem[host_ref] = cert_pem

        def restart() -> None:
            self.stop_host(host_ref)
            self.restart_host(host_ref)

        threading.Timer(0.3, restart).start()

    def reset_certificate(self, host_ref: str, names: list[str]) -> str:
        """A new self-signed certificate for the host; its listeners restart
        with it shortly after the call's reply (as XAPI restarts its TLS
        front end). Returns the new SHA-256 fingerprint."""
        if self._ssl is None:
            _cert, _key, fingerprint = self_signed_certificate(names)
            return fingerprint  # plain HTTP: only the record changes
        self.host_tls[host_ref], fingerprint, self.host_pem[host_ref] = _tls_context(names)

        def restart() -> None:
            self.stop_host(host_ref)
            self.restart_host(host_ref)

        threading.Timer(0.3, restart).start()
        return fingerprint

    def served_certificate(self, host_ref: str) -> bytes | None:
        """The certificate (PEM) the host serves; None on plain HTTP."""
        if self._ssl is None:
            return None
        return self.host_pem.get(host_ref, self._pem)

    def _handler(self, base, host_ref):
        return type("Handler", (base,), {"sim": self.sim, "host_ref": host_ref})

    def listen_tcp(self, address: str, port: int, host_ref: str | None) -> Listener:
        server = _TCPServer((address, port), self._handler(_Handler, host_ref))
        server.tls = self.host_tls.get(host_ref or "", self._ssl)
        scheme = "https" if self._ssl else "http"
        listener = Listener(f"{scheme}://{address}:{server.server_address[1]}", host_ref, server)
        self._start(listener)
        return listener

    def listen_control(self, port: int = 0) -> Listener:
        """The fault-injection endpoint (kill or revive a host), loopback only."""
        from .control import handler_for

        server = _ControlServer(("127.0.0.1", port), handler_for(self.sim))
        listener = Listener(f"http://127.0.0.1:{server.server_address[1]}", None, server, "control")
        self._start(listener)
        return listener

    def listen_unix(self, path: str, host_ref: str | None = None) -> Listener:
        """A socket whose logins are trusted (like dom0's): only its owner may
        connect (0600), and nothing but an old socket is ever replaced. It
        is ``host_ref``'s dom0 socket (the master's when not said), and
        stays that host's when another host becomes master."""
        host_ref = host_ref or self.sim.master
        if os.path.lexists(path):
            if not stat.S_ISSOCK(os.lstat(path).st_mode):
                raise FileExistsError(errno.EEXIST, "exists and is not a socket", path)
            os.unlink(path)
        old_umask = os.umask(0o177)
        try:
            server = _UnixServer(path, self._handler(_UnixHandler, host_ref))
        finally:
            os.umask(old_umask)
        listener = Listener(f"unix:{path}", host_ref, server, "unix")
        self._start(listener)
        return listener

    def move_listener(self, host_ref: str, old: str, new: str) -> None:
        """Follow a management address change: stop listening on ``old``, listen on
        ``new`` (same port) when it is a loopback address."""
        if self.closed:
            return  # the move was scheduled before the simulator stopped
        for listener in self._stop(
            lambda lst: (
                lst.host_ref == host_ref and getattr(lst.server, "server_address", ("",))[0] == old
            )
        ):
            if _is_loopback(new):
                try:
                    self.listen_tcp(new, listener.server.server_address[1], host_ref)
                except OSError:
                    pass

    def stop_host(self, host_ref: str) -> None:
        """The host is away (rebooting, shut down, toolstack restarting): its
        listeners stop and their connections drop, as a dead host's would
        (its dom0 socket too)."""
        owned = self._stop(lambda lst: lst.host_ref == host_ref)
        self.stopped[host_ref] = [
            (lst.url, 0) if lst.url.startswith("unix:") else lst.server.server_address[:2]
            for lst in owned
        ]

    def _stop(self, which) -> list[Listener]:
        """Stop the listeners ``which(listener)`` selects, their connections
        dropped; returns them."""
        with self._lifecycle:
            taken = [lst for lst in self.listeners if which(lst)]
            for lst in taken:
                self.listeners.remove(lst)
        for lst in taken:
            lst.server.shutdown()
            lst.server.server_close()
            lst.server.drop_connections()
        return taken

    def restart_host(self, host_ref: str) -> None:
        if self.closed:
            return
        for address, port in self.stopped.pop(host_ref, []):
            try:
                if address.startswith("unix:"):
                    self.listen_unix(address[5:], host_ref)
                else:
                    self.listen_tcp(address, port, host_ref)
            except OSError:
                pass  # the address went away meanwhile

    def serve_joined(self, host_ref: str) -> None:
        """A host that joined the pool answers at its address as a member."""
        if self.closed or not self.pool_port:
            return
        address = self.sim.host_address(host_ref)
        for _ in range(20):  # its old listener (its own pool's) is closing
            try:
                self.listen_tcp(address, self.pool_port, host_ref)
                return
            except OSError:
                if self.closed:
                    return
                time.sleep(0.1)

    def serve_pool(self, address: str = "127.0.0.1", port: int = 0, strict=False) -> Listener:
        """The master's listener on ``address`` plus one per host whose
        management address is on loopback (same port). ``strict``: a member's
        address whose port is taken is an error (EADDRINUSE), not skipped."""
        master = self.listen_tcp(address, port, self.sim.master)
        port = self.pool_port = master.server.server_address[1]
        for ref, host in self.sim.store.table("host").items():
            addr = host["address"]
            if addr == address or not _is_loopback(addr):
                continue
            try:
                self.listen_tcp(addr, port, ref)
            except OSError as exc:
                if strict and exc.errno == errno.EADDRINUSE:
                    raise
                continue  # address unusable here; the pool still works via the master
        return master

    def _start(self, listener: Listener) -> None:
        with self._lifecycle:
            if self.closed:  # a restart or move that was scheduled before close()
                listener.server.server_close()
                raise OSError(errno.ESHUTDOWN, "the simulator has stopped")
            self.listeners.append(listener)
            threading.Thread(target=listener.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        with self._lifecycle:
            self.closed = True
            listeners, self.listeners = list(self.listeners), []
        # shutdown() waits up to a poll interval per listener: stop them together
        stoppers = [threading.Thread(target=lst.server.shutdown) for lst in listeners]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()
        for listener in listeners:
            listener.server.server_close()
            listener.server.drop_connections()
            if listener.url.startswith("unix:"):
                try:
                    os.unlink(listener.url[5:])
                except OSError:
                    pass


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
