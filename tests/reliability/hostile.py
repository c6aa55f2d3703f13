"""Hostile or broken HTTP servers, as test fixtures: each answers logins like
XAPI (so that a client gets as far as its first real call) and then misbehaves
in one way."""

from __future__ import annotations

import socket
import threading
import time
import xmlrpc.client

MODES = ("malformed-xml", "fault", "wrong-types", "endless", "trickle", "silent", "not-xapi-events")


def _xml(value) -> bytes:
    return xmlrpc.client.dumps((value,), methodresponse=True).encode()


class HostileServer:
    """Listens on 127.0.0.1; ``url`` to reach it. Misbehaves per ``mode``,
    from the call after login (or from the first byte when ``at_login``)."""

    def __init__(self, mode: str, *, at_login: bool = False):
        assert mode in MODES
        self.mode, self.at_login = mode, at_login
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def close(self) -> None:
        self.stop.set()
        try:  # wakes the accept below: closing alone leaves it (and the port) held
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._acceptor.join()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            while not self.stop.is_set():
                request = self._read_request(conn)
                if request is None:
                    return
                path, body = request
                method = ""
                if path != "/jsonrpc":
                    try:
                        method = xmlrpc.client.loads(body)[1] or ""
                    except Exception:
                        method = ""
                if path == "/jsonrpc":  # no JSON-RPC here: clients fall back to XML-RPC
                    self._send(conn, b"not found", status="404 Not Found")
                elif not self.at_login and method == "session.login_with_password":
                    self._send(conn, _xml({"Status": "Success", "Value": "OpaqueRef:s1"}))
                elif not self.at_login and method == "session.get_record":
                    record = {"this_host": "OpaqueRef:h1", "is_local_superuser": True}
                    self._send(conn, _xml({"Status": "Success", "Value": record}))
                elif not self.at_login and method == "session.logout":
                    self._send(conn, _xml({"Status": "Success", "Value": ""}))
                else:
                    self._misbehave(conn)
                    return
        except OSError:
            return
        finally:
            conn.close()

    @staticmethod
    def _read_request(conn: socket.socket):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            body += chunk
        return lines[0].split()[1], body

    @staticmethod
    def _send(conn, body: bytes, status: str = "200 OK", ctype: str = "text/xml") -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
        conn.sendall(head.encode() + body)

    def _misbehave(self, conn: socket.socket) -> None:
        mode = self.mode
        if mode == "malformed-xml":
            self._send(conn, b"<methodResponse><params><param><value><struct><member>")
        elif mode == "fault":
            self._send(
                conn,
                xmlrpc.client.dumps(xmlrpc.client.Fault(1, "boom"), methodresponse=True).encode(),
            )
        elif mode == "wrong-types":
            self._send(conn, _xml(42))
        elif mode == "not-xapi-events":
            self._send(conn, _xml({"Status": "Success", "Value": "not a dict of events"}))
        elif mode == "endless":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<methodResponse>")
            block = b"<!-- " + b"x" * 65536 + b" -->"
            while not self.stop.is_set():
                conn.sendall(block)
        elif mode == "trickle":
            reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n"
            for byte in reply + b"<" * 100000:
                if self.stop.is_set():
                    return
                conn.sendall(bytes([byte]))
                time.sleep(0.2)  # not a wait: the trickle is the misbehaviour
        elif mode == "silent":
            self.stop.wait(120)
