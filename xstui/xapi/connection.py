"""A logged-in connection to a pool master: calls, and one event thread that
keeps a :class:`Cache` current through ``event.from`` (no polling)."""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import time
import xmlrpc.client
from collections.abc import Callable, Iterable, Sequence
from xml.parsers.expat import ExpatError

import XenAPI

from .access import Access
from .cache import Cache
from .errors import HumanError, describe
from .jsonrpc import JsonRpcClient, JsonRpcFailure, JsonRpcUnavailable
from .records import record_type
from .targets import Target
from .tls import FingerprintMismatch, check_trust, same_fingerprint, server_fingerprint, spaced
from .transport import DeadlinePassed, TargetTransport

# Watched when the caller names nothing: enough for the connection bar and tasks.
# The app and the CLI pass the areas' union (xstui.areas.watched_types).
BASE_WATCH = ("pool", "host", "task")
log = logging.getLogger("xstui")
EVENT_TIMEOUT = 30.0
EVENT_BATCH = 0.1  # seconds: at most one event.from this often while changes keep coming
FIRST_DRAW_WAIT = 1.0  # seconds the rest of the pool waits for the first screen
NETWORK_ERRORS = (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError, ssl.SSLError)
# what a reply that is not XAPI's raises while it is decoded
BAD_REPLIES = (
    xmlrpc.client.Fault,
    xmlrpc.client.ResponseError,
    ExpatError,
    ValueError,
    TypeError,
    KeyError,
    RecursionError,
)


def is_read(method: str) -> bool:
    """Calls that change nothing, so may be sent again."""
    if method.startswith("Async."):
        return False
    name = method.rsplit(".", 1)[-1]
    return name.startswith("get_") or method in ("event.from", "session.get_this_host")


class ConnectError(Exception):
    """Could not connect or log in. ``kind``: auth, network, tls, trust."""

    def __init__(
        self,
        message: str,
        kind: str,
        *,
        target: Target | None = None,
        fingerprint: str = "",
        pinned: str | None = None,
        timed_out: bool = False,
    ):
        super().__init__(message)
        self.kind, self.target, self.fingerprint, self.pinned = kind, target, fingerprint, pinned
        self.timed_out = timed_out  # no answer within the time given (kind "network")


class XapiFailure(Exception):
    """An API call the host refused; ``human`` says it in words."""

    def __init__(self, details: list):
        self.details = [str(d) for d in details]
        self.human: HumanError = describe(self.details)
        super().__init__(str(self.human))

    @property
    def code(self) -> str:
        return self.human.code


class ConnectionLost(Exception):
    pass


class CertificateRefused(Exception):
    """The host now presents a certificate other than the pinned one."""


class PasswordRefused(Exception):
    """A login again was refused with ``password``: retrying with the same
    would loop (see Connection.log_in_again)."""

    def __init__(self, message: str, password: str):
        super().__init__(message)
        self.password = password


class Connection:
    """One pool, one user. ``call`` is thread safe; events run on their own thread."""

    def __init__(
        self,
        target: Target,
        user: str = "root",
        password: str = "",
        *,
        fingerprints: dict[str, str] | None = None,
        timeout: float = 120.0,
        watch: dict[str, type] | None = None,
        load_order: Sequence[Iterable[str]] = (),
    ):
        self.target = target
        self.user, self._password = user, password
        self.fingerprints = fingerprints if fingerprints is not None else {}
        # host:port -> fingerprint trusted while this connection lasts, never
        # saved: the pool recovery's members, once the admin confirmed that
        # they present what the pool recorded for them (trust_for_session)
        self.session_fingerprints: dict[str, str] = {}
        self.timeout = timeout
        self.cache = Cache(watch or {cls: record_type(cls) for cls in BASE_WATCH})
        self.event_classes = sorted(self.cache.types)
        self.load_parts = _parts(load_order, self.event_classes)
        # set by the first screen once it has drawn the first part of the pool
        # (and made the calls of its own it needs): the rest is read after that
        # (at most FIRST_DRAW_WAIT later), not while the screen is being drawn
        # (both would take the GIL in turn, and the calls would wait for it)
        self.first_drawn: threading.Event | None = None
        self.state = "disconnected"
        self.state_detail = ""
        self.this_host = ""
        self.access = Access()  # what the session may call (RBAC), known at login
        self._methods: frozenset[str] | None = None  # system.listMethods, see has_method
        self.calls = 0
        self.fingerprint: str | None = None
        self._proxy: XenAPI.Session | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._json_ok = True  # until the host shows it has no /jsonrpc
        self._channel = None  # the event thread's connection
        self.on_change: Callable[[set[str]], None] = lambda classes: None
        self.on_state: Callable[[str, str], None] = lambda state, detail: None
        self._new_certificate_expected = False
        # the password a refused login tries next (the pool's root password, while
        # this host joins a pool); and whether reconnecting stopped on a refusal
        self._next_password: str | None = None
        self._auth_lock = threading.Lock()
        self.password_refused = False

    # login -------------------------------------------------------------------
    def _proxy_for(self, target: Target, timeout: float) -> XenAPI.Session:
        uri = "http://local/" if target.kind == "local" else target.url
        transport = TargetTransport(target, self.pin(target.trust_key), timeout)
        return XenAPI.Session(uri, transport=transport)

    def pin(self, key: str) -> str | None:
        """The fingerprint trusted at ``key`` (host:port): pinned, or trusted
        for this session; a pin wins (a mismatch with it stays a mismatch)."""
        return self.fingerprints.get(key) or self.session_fingerprints.get(key)

    def trust_for_session(self, target: Target, fingerprint: str) -> None:
        """Trust ``fingerprint`` at ``target`` until this connection ends,
        without pinning it (nothing is saved)."""
        self.session_fingerprints[target.trust_key] = fingerprint.upper()

    def _check_certificate(self, target: Target, vouched: str = "") -> None:
        """``vouched``: the fingerprint trusted for the member that sent us to
        this master; a master presenting that same certificate is trusted too."""
        try:
            actual = server_fingerprint(target.host, target.port, timeout=15)
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(
                f"cannot reach {target.url}: {network_reason(exc)}",
                "network",
                target=target,
                timed_out=timed_out(exc),
            ) from None
        if (
            vouched
            and same_fingerprint(vouched, actual)
            and target.trust_key not in self.fingerprints
        ):
            self.fingerprints[target.trust_key] = actual
        decision = check_trust(
            {**self.session_fingerprints, **self.fingerprints}, target.trust_key, actual
        )
        self.fingerprint = actual
        if decision.status == "unknown":
            raise ConnectError(
                f"{target.url} presents a certificate not seen before (SHA-256 {spaced(actual)}).",
                "trust",
                target=target,
                fingerprint=actual,
            )
        if decision.status == "mismatch":
            raise ConnectError(
                f"{target.url} presents a different certificate than the one trusted before "
                f"(now {spaced(actual)}, trusted {spaced(decision.pinned)}). The host's certificate may have been "
                "regenerated, or someone may be intercepting the connection. Check the fingerprint "
                "on the host's console (xstui Status screen or xsconsole) before trusting it again.",
                "trust",
                target=target,
                fingerprint=actual,
                pinned=decision.pinned,
            )

    def login(self, max_hops: int = 2) -> None:
        """Log in, following HOST_IS_SLAVE to the master. Raises ConnectError."""
        target, vouched = self.target, ""
        for _hop in range(max_hops + 1):
            if target.kind == "remote" and target.scheme == "https":
                self._check_certificate(target, vouched)
            proxy = self._proxy_for(target, self.timeout)
            try:
                proxy.xenapi.login_with_password(self.user, self._password, "2.16", "xstui")
            except XenAPI.Failure as f:
                details = [str(d) for d in f.details]
                if details[0] == "HOST_IS_SLAVE" and len(details) > 1 and target.kind == "remote":
                    vouched = self.fingerprints.get(target.trust_key, "")
                    target = target.with_host(details[1])
                    continue
                kind = "auth" if details[0] == "SESSION_AUTHENTICATION_FAILED" else "xapi"
                raise ConnectError(str(describe(details)), kind, target=target) from None
            except FingerprintMismatch as exc:
                raise ConnectError(
                    str(exc), "trust", target=target, fingerprint=exc.actual
                ) from None
            except NETWORK_ERRORS as exc:
                raise ConnectError(
                    f"cannot reach {target.url}: {network_reason(exc)}",
                    "network",
                    target=target,
                    timed_out=timed_out(exc),
                ) from None
            except BAD_REPLIES as exc:
                raise ConnectError(
                    f"{target.url} does not answer like XAPI ({type(exc).__name__}): "
                    "is it a XenServer / XCP-ng host?",
                    "network",
                    target=target,
                ) from None
            self.target, self._proxy = target, proxy
            try:
                record = self.call("session.get_record", proxy._session)
            except (ConnectionLost, XapiFailure) as exc:
                raise ConnectError(str(exc), "network", target=target) from None
            if not isinstance(record, dict) or not isinstance(record.get("this_host"), str):
                raise ConnectError(
                    f"{target.url} does not answer like XAPI (a session without a host): "
                    "is it a XenServer / XCP-ng host?",
                    "network",
                    target=target,
                )
            self.this_host = record["this_host"]
            self.access = Access.of_session(record)
            # what this release can do: read again (the master may have changed,
            # or been updated) when first asked, not before the first screen
            self._methods = None
            self._set_state("connected")
            return
        raise ConnectError(f"{self.target.url}: too many HOST_IS_SLAVE redirections", "network")

    def expect_certificate_change(self, expected: bool = True) -> None:
        """This console is having the host's certificate regenerated: until
        the admin has compared and trusted (repin) or declined it, a changed
        certificate keeps the connection waiting instead of giving up."""
        self._new_certificate_expected = expected

    def repin(self, fingerprint: str) -> None:
        """The admin trusts the host's new certificate: pin it, and start the
        event stream again if it stopped on the change."""
        self.fingerprints[self.target.trust_key] = fingerprint
        self._new_certificate_expected = False
        if self._thread is not None and not self._thread.is_alive() and not self._stop.is_set():
            self.start_events()

    def password_changed(self, password: str) -> None:
        """The password was changed on the pool: logins from now on use it."""
        self._password = password

    def expect_password(self, password: str | None) -> None:
        """The host is about to take another password (it joins a pool, whose
        root password it takes): a login again refused with the current one
        tries this one, and keeps it when it is accepted. None: no longer."""
        self._next_password = password

    def log_in_again(self, password: str) -> None:
        """The admin gave the password the pool takes now: logins use it from
        now on, and if reconnecting had stopped on the refused password, log
        in now and start the events again. Raises ConnectError (a wrong
        password too: kind "auth"), the reconnecting still stopped."""
        with self._auth_lock:
            self._password = password
            if not self.password_refused:
                return  # still reconnecting: the next attempt uses it
            if self._thread is not None:
                self._thread.join(5)  # it ends at once: it had given up
            self.login()
            self.password_refused = False
        self.start_events()

    def session_on(
        self, address: str, *, local: bool = False, password: str | None = None
    ) -> XenAPI.Session:
        """A session on another host (the recovery paths, when the master is
        gone; a pool this host may join): a normal login, which a member
        answers with HOST_IS_SLAVE (raised as XenAPI.Failure), or the member's
        own local login. As this user, with this password unless another is
        given (another pool's root). Its certificate is checked like the master's."""
        target = self.host_target(address)
        if target.kind == "remote" and target.scheme == "https":
            self._check_certificate(target)
        proxy = self._proxy_for(target, 15)
        secret = self._password if password is None else password
        if local:
            proxy.slave_local_login_with_password(self.user, secret)
        else:
            proxy.xenapi.login_with_password(self.user, secret, "2.16", "xstui-recovery")
        return proxy

    def host_target(self, address: str) -> Target:
        """How this console reaches the pool's host at ``address``: in dom0,
        its own host through the socket and any other over HTTPS (see
        Target.with_host); remotely, with the connection's scheme and port."""
        if self.target.kind == "local" and address in ("", self.own_address()):
            return self.target
        return self.target.with_host(address)

    def own_address(self) -> str:
        """The address of the host this console is logged in to, as the cache knows it."""
        with self.cache.lock:
            rec = self.cache.get("host", self.this_host) if self.this_host else None
        return rec.address if rec else ""

    def has_method(self, method: str) -> bool:
        """Whether the pool's API has ``method`` ("host.reset_server_certificate"),
        from its own list (``system.listMethods``, read once per login): what
        a host can do is asked of the API, never guessed from its product name.
        The event thread reads the list after the first part of the pool (see
        _load); asked before that (the pool not loaded yet) from the screen's
        thread, which must not wait for a call, it says yes (the screens ask
        again as the pool arrives)."""
        methods = self._methods
        if methods is None:
            if (
                self.events_running
                and not self.cache.loads
                and threading.current_thread() is threading.main_thread()
            ):
                return True
            methods = self._methods = self._list_methods()
        return not methods or method in methods

    def lacks(self, calls) -> list[str]:
        """Which of these XAPI calls ("host.enable_ssh"; HTTP handlers and
        Async. prefixes aside) this pool's release does not have."""
        named = (c.removeprefix("Async.") for c in calls if "/" not in c)
        return [c for c in named if not self.has_method(c)]

    @property
    def release(self) -> str:
        """The product this pool runs, as it says ("XCP-ng 8.2.1")."""
        host = self.cache.get("host", self.this_host)
        version = host.software_version if host is not None else {}
        named = f"{version.get('product_brand', '')} {version.get('product_version', '')}".strip()
        return named or "this release"

    @property
    def platform_version(self) -> str:
        """The pool's platform version ("3.2.1"), as its host says: what its
        dom0 runs follows it (chronyd from platform 3, XenServer 8 and XCP-ng 8)."""
        host = self.cache.get("host", self.this_host)
        return host.software_version.get("platform_version", "") if host is not None else ""

    def _list_methods(self) -> frozenset[str]:
        try:
            return frozenset(self.call("system.listMethods"))
        except (XapiFailure, ConnectionLost):
            return frozenset()  # no introspection: assume a recent host

    # calls -------------------------------------------------------------------
    def call(self, method: str, *args):
        """``call("VM.start", vm, False, False)``; raises XapiFailure or
        ConnectionLost. A read is tried a second time on a fresh connection (a
        kept-alive one may have been closed by the host meanwhile); a write
        never is: it may have reached the host (see run_task, which finds out)."""
        if self._proxy is None:
            raise ConnectionLost("not connected")
        attempts = 2 if is_read(method) else 1
        with self._lock:
            for attempt in range(attempts):
                self.calls += 1
                try:
                    return self._proxy.xenapi_request(method, args)
                except XenAPI.Failure as f:
                    raise XapiFailure(f.details) from None
                except NETWORK_ERRORS as exc:
                    if attempt + 1 < attempts:
                        continue
                    raise ConnectionLost(
                        f"lost the connection to {self.target.url}: {network_reason(exc)}"
                    ) from None
                except BAD_REPLIES as exc:
                    log.warning("reply to %s not understood", method, exc_info=exc)
                    raise ConnectionLost(
                        f"{self.target.url} sent a reply that is not XAPI's "
                        f"({type(exc).__name__}): is it a XenServer / XCP-ng host?"
                    ) from None
        raise AssertionError("unreachable")

    def call_as(self, session: str, method: str, *args):
        """A call made with another session of this host: one VDI.open_database
        gave, whose calls read the database on a metadata VDI. Errors as
        ``call``; never retried (a session opened so is never renewed)."""
        if self._proxy is None:
            raise ConnectionLost("not connected")
        with self._lock:
            self.calls += 1
            try:
                answer = getattr(self._proxy, method)(session, *args)
            except NETWORK_ERRORS as exc:
                raise ConnectionLost(
                    f"lost the connection to {self.target.url}: {network_reason(exc)}"
                ) from None
            except BAD_REPLIES as exc:
                raise ConnectionLost(
                    f"{self.target.url}: a reply that is not XAPI's ({exc})"
                ) from None
        if isinstance(answer, dict) and answer.get("Status") == "Success":
            return answer.get("Value", "")
        details = answer.get("ErrorDescription") if isinstance(answer, dict) else None
        raise XapiFailure(list(details or ["INTERNAL_ERROR", f"{method}: no status in the reply"]))

    def retarget(self, host: str, *, same_certificate: bool = True) -> None:
        """Reconnect at ``host`` from now on: the master's management address
        is about to change (the certificate stays the same, so its pin moves
        along), or another host became the master (``same_certificate``
        False: it is trusted by its own pin, or for this session)."""
        old = self.target
        if old.kind != "remote" or not host or host == old.host:
            return
        self.target = old.with_host(host)
        if same_certificate and old.trust_key in self.fingerprints:
            self.fingerprints[self.target.trust_key] = self.fingerprints[old.trust_key]

    @property
    def session_ref(self) -> str:
        return self._proxy._session if self._proxy else ""

    # events ------------------------------------------------------------------
    @property
    def events_running(self) -> bool:
        return self._thread is not None

    def start_events(self) -> None:
        self._thread = threading.Thread(target=self._event_loop, name="xstui-events", daemon=True)
        self._thread.start()

    def load_once(self) -> None:
        """Fill the cache with one ``event.from`` call (for one-shot commands)."""
        self._channel = self._event_channel(self.timeout)
        try:
            result = self._event_from(self._channel, "", 0.0)
        except NETWORK_ERRORS as exc:
            raise ConnectionLost(
                f"lost the connection to {self.target.url}: {network_reason(exc)}"
            ) from None
        finally:
            self._close_channel()
        self.cache.replace(result["events"])

    def _event_channel(self, timeout: float = EVENT_TIMEOUT + 30):
        """Events travel over JSON-RPC where the host has it (same session)."""
        if self._json_ok:
            return JsonRpcClient(self.target, self.pin(self.target.trust_key), timeout)
        proxy = self._proxy_for(self.target, timeout)
        proxy._session = self.session_ref
        proxy.last_login_method = "login_with_password"
        proxy.last_login_params = (self.user, self._password, "2.16", "xstui")
        return proxy

    def _event_from(
        self, channel, token: str, timeout: float, classes: list[str] | None = None
    ) -> dict:
        """One ``event.from`` (of ``classes``, by default every watched one):
        {"events": [...], "token": "..."}; a reply of another shape is a host
        that is not XAPI (ConnectionLost)."""
        classes = classes or self.event_classes
        with self._lock:
            self.calls += 1
        try:
            if isinstance(channel, JsonRpcClient):
                try:
                    result = channel.call(
                        "event.from",
                        [self.session_ref, classes, token, timeout],
                        object_hook=self.cache.event_hook,
                    )
                except JsonRpcFailure as f:
                    raise XapiFailure(f.details) from None
                except JsonRpcUnavailable:
                    self._json_ok = False
                    self._close_channel()
                    self._channel = self._event_channel(channel.timeout)
                    return self._event_from(self._channel, token, timeout, classes)
            else:
                try:
                    result = channel.xenapi_request("event.from", (classes, token, timeout))
                except XenAPI.Failure as f:
                    raise XapiFailure(f.details) from None
        except BAD_REPLIES as exc:
            raise ConnectionLost(
                f"{self.target.url} sent events that are not XAPI's ({type(exc).__name__})"
            ) from None
        if not (
            isinstance(result, dict)
            and isinstance(result.get("events"), list)
            and isinstance(result.get("token"), str)
            and all(
                isinstance(ev, dict) and "class" in ev and "ref" in ev for ev in result["events"]
            )
        ):
            raise ConnectionLost(f"{self.target.url} sent events that are not XAPI's")
        return result

    def _event_loop(self) -> None:
        """Runs until close() or a refusal that retrying cannot fix (a changed
        certificate); anything unexpected is logged and retried with backoff."""
        backoff = 0.5
        try:
            while not self._stop.is_set():
                try:
                    self._run_events()
                    return
                except CertificateRefused as refused:
                    if self._new_certificate_expected:  # regenerated from this console
                        self._set_state("reconnecting")
                        self._stop.wait(backoff)
                        continue
                    self._set_state("refused", str(refused))
                    return
                except PasswordRefused as refused:
                    with self._auth_lock:
                        if refused.password != self._password:
                            continue  # another was given meanwhile: try it
                        self.password_refused = True
                    self._set_state("refused", str(refused))
                    return
                except Exception as exc:  # never let the event thread die silently
                    log.error("event thread error", exc_info=exc)
                    self._set_state("reconnecting", f"unexpected error: {network_reason(exc)}")
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, 10)
        finally:
            self._close_channel()

    def _close_channel(self) -> None:
        channel, self._channel = self._channel, None
        if isinstance(channel, JsonRpcClient):
            channel.close()
        elif channel is not None:
            channel("close")()  # XenAPI proxy: close its HTTP connection

    def _run_events(self) -> None:
        token, backoff = "", 0.5
        self._channel = self._event_channel()
        while not self._stop.is_set():
            try:
                if token == "":
                    token, backoff = self._load(), 0.5
                    continue
                asked = time.monotonic()
                result = self._event_from(self._channel, token, EVENT_TIMEOUT)
            except XapiFailure as exc:
                # the toolstack restarted (SESSION_INVALID), or this host is no longer
                # the master (HOST_IS_SLAVE, after a designation): log in again,
                # following the redirection to the master
                if exc.code in ("SESSION_INVALID", "HOST_IS_SLAVE"):
                    try:
                        self._relogin()
                        token = ""
                        continue
                    except ConnectError as err:
                        exc = err
                elif exc.code in ("EVENTS_LOST", "EVENT_FROM_TOKEN_PARSE_FAILURE"):
                    token = ""  # re-sync from scratch
                    continue
                self._set_state("reconnecting", str(exc))
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10)
                continue
            except (*NETWORK_ERRORS, ConnectionLost) as exc:
                if self._stop.is_set():
                    return
                why = str(exc) if isinstance(exc, ConnectionLost) else network_reason(exc)
                self._set_state("reconnecting", f"lost the connection: {why}")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10)
                try:
                    self._relogin()
                    token = ""
                except ConnectError as err:
                    self._set_state("reconnecting", str(err))
                continue
            changed = self.cache.apply(result["events"])
            token, backoff = result["token"], 0.5
            if self.state != "connected":
                self._set_state("connected")
            if changed:
                self.on_change(changed)
            # a busy pool (hundreds of changes a second): what changes meanwhile
            # is read in the next call, not in hundreds of small ones
            self._stop.wait(EVENT_BATCH - (time.monotonic() - asked))

    def _load(self) -> str:
        """A full load (at the start, and to resync): the pool's objects, part
        by part (``load_parts``: what the first screen draws from comes
        first, and is drawn before the rest is read); the token to follow
        changes from, the first part's (what changed while the other parts
        were read comes again: applying it twice changes nothing)."""
        token = ""
        for i, classes in enumerate(self.load_parts):
            result = self._event_from(self._channel, "", 0.0, classes)
            last = i == len(self.load_parts) - 1
            if last and self._methods is None:  # known once the load is complete
                self._methods = self._list_methods()
            if len(self.load_parts) == 1:
                changed = self.cache.replace(result["events"])
            else:
                changed = self.cache.replace_part(result["events"], classes, last)
            token = token or result["token"]
            if self.state != "connected":
                self._set_state("connected")
            if changed:
                self.on_change(changed)
            if i == 0 and not last and self.first_drawn is not None:
                self.first_drawn.wait(FIRST_DRAW_WAIT)
            if self._methods is None:  # or as soon as the first screen has drawn
                self._methods = self._list_methods()
        return token

    def _relogin(self) -> None:
        """Log in again after a loss, log out the session it replaces and open
        a fresh event channel. A certificate that changed meanwhile ends the
        reconnecting with the same refusal as at connect (CertificateRefused);
        so does a password the pool no longer takes (PasswordRefused), after
        the one it was expected to take (expect_password) was tried."""
        old, password = self._proxy, self._password
        try:
            self.login()
        except ConnectError as err:
            if err.kind == "trust":
                raise CertificateRefused(str(err)) from None
            if err.kind == "auth":
                self._login_with_next_password(err, password)
            elif err.kind != "network" or not self._login_via_members():
                raise
        self._close_channel()
        self._channel = self._event_channel()
        if old is not None and old is not self._proxy:
            old("close")()  # its kept-alive connection is most likely the broken one
            # A session ref is not tied to a connection: log the old one out over
            # the new, working one (a raw call; "gone already" is fine too).
            with self._lock:
                try:
                    self._proxy.session.logout(old._session)
                except Exception as exc:
                    log.info("logout of the replaced session: %s", exc)

    def _login_with_next_password(self, refusal: Exception, password: str) -> None:
        """The login was refused with ``password``: log in with the expected
        one if there is one (and keep it), or raise PasswordRefused."""
        expected, self._next_password = self._next_password, None
        if expected is not None and expected != password:
            self._password = expected
            try:
                self.login()
                return
            except ConnectError as err:
                if err.kind != "auth":
                    self._password = password
                    self._next_password = expected
                    raise
                refusal, password = err, expected
        log.info("login again refused: %s", refusal)
        raise PasswordRefused(
            f"the pool no longer accepts the password of {self.user} (it was changed, or this "
            "host joined a pool and took the pool's root password)",
            password,
        ) from None

    def _login_via_members(self) -> bool:
        """The master's address does not answer: ask the other hosts of the
        pool (as last known), which send us to the master they follow (after
        an HA failover, the new one). True when logged in through one."""
        if self.target.kind != "remote":
            return False
        with self.cache.lock:
            addresses = sorted(
                {h.address for h in self.cache.table("host").values()} - {self.target.host}
            )
        master = self.target
        for address in addresses:
            self.target = master.with_host(address)
            try:
                self.login()
                return True
            except ConnectError:
                continue
        self.target = master
        return False

    def _set_state(self, state: str, detail: str = "") -> None:
        if state == "reconnecting" and self._new_certificate_expected:
            # whatever the retry tripped on, what the admin waits for is this
            detail = "the host presents its new certificate: waiting for it to be trusted"
        self.state, self.state_detail = state, detail
        self.on_state(state, detail)

    def close(self) -> None:
        self._stop.set()
        if isinstance(self._channel, JsonRpcClient):
            self._channel.abort()  # wake the event thread out of its long poll
        if self._proxy is not None:
            # an action may hold the lock in a long call: quitting does not wait for it
            if self._lock.acquire(timeout=1.0):
                try:
                    self._proxy.xenapi_request("session.logout", ())
                except Exception:
                    pass  # closing anyway: the session times out on the host
                finally:
                    self._lock.release()
            self._proxy("close")()  # and drop the kept-alive HTTP connection
        self._set_state("closed")


def _parts(order: Sequence[Iterable[str]], classes: list[str]) -> list[list[str]]:
    """The parts of a full load: each of ``order`` (its classes that are
    watched and not in an earlier part), then every other watched class."""
    parts, seen = [], set()
    for wanted in order:
        part = [c for c in sorted(set(wanted)) if c in classes and c not in seen]
        if part:
            parts.append(part)
            seen.update(part)
    rest = [c for c in classes if c not in seen]
    return [*parts, rest] if rest else parts or [classes]


def timed_out(exc: BaseException) -> bool:
    """The host did not answer within the time given (network_reason says "timed out")."""
    return isinstance(exc, DeadlinePassed | socket.timeout | TimeoutError)


def network_reason(exc: BaseException) -> str:
    """Why a host could not be reached, in a few words."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is XAPI running there?)"
    if isinstance(exc, DeadlinePassed):
        return str(exc)
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, FileNotFoundError):
        return "no XAPI socket there (is this dom0?)"
    if isinstance(exc, ssl.SSLEOFError):
        return "the host closed the TLS connection (is its toolstack restarting?)"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({getattr(exc, 'reason', None) or exc})"
    return getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
