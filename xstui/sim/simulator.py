"""A simulated pool: the object store plus the rules that are not per-message
(credentials, the master, timing, fault injection)."""

from __future__ import annotations

import secrets
import threading

from .api import Caller, dispatch
from .errors import DropConnection, XapiError
from .store import Store


class Simulator:
    def __init__(
        self,
        store: Store,
        password: str | None = None,
        *,
        task_delay: float = 0.05,
        latency: float = 0.0,
        time_scale: float = 1.0,
    ):
        self.store = store
        self.password = password or secrets.token_urlsafe(12)
        self.task_delay = task_delay
        self.latency = latency
        self.time_scale = time_scale
        self.registrations: dict[str, dict] = {}  # session -> legacy event registration
        self.faults: dict[str, list] = {}  # method -> [calls to let through, error description]
        self.drops: dict[str, list] = {}  # method -> [calls to let through, "before"/"after"]
        self.on_address_change = None  # set by the server: (host, old, new) -> None

    # pool facts ------------------------------------------------------------
    @property
    def pool(self) -> str:
        return next(iter(self.store.table("pool")))

    @property
    def master(self) -> str:
        return self.store.get("pool", self.pool)["master"]

    def host_address(self, host: str) -> str:
        return self.store.get("host", host)["address"]

    def host_by_address(self, address: str) -> str | None:
        return self.store.find_one("host", address=address)

    def address_changed(self, host: str, old: str, new: str) -> None:
        """A management address moved; the server follows shortly after the
        reply has gone out (XAPI, too, answers before the interface moves)."""
        if self.on_address_change:
            threading.Timer(0.3, self.on_address_change, (host, old, new)).start()

    def check_session(self, ref: str) -> None:
        if not self.store.exists("session", ref):
            raise XapiError("SESSION_INVALID", ref)

    # calls -----------------------------------------------------------------
    def call(self, method: str, params: list, caller: Caller | None = None):
        """Run one API call; the value, or XapiError (or DropConnection when a
        drop was injected)."""
        drop = self.drops.get(method)
        if drop is not None:
            if drop[0] <= 0:
                del self.drops[method]
                if drop[1] == "before":
                    raise DropConnection(method)
                try:
                    self._call(method, params, caller)
                except XapiError:
                    pass
                raise DropConnection(method)  # it ran; the reply is lost
            drop[0] -= 1
        return self._call(method, params, caller)

    def _call(self, method: str, params: list, caller: Caller | None):
        fault = self.faults.get(method)
        if fault is not None:
            if fault[0] <= 0:
                del self.faults[method]
                raise XapiError(*fault[1])
            fault[0] -= 1
        return dispatch(self, method, params, caller or Caller())

    def inject_drop(self, method: str, when: str, after: int = 0) -> None:
        """Fault injection: the call to ``method`` after ``after`` others loses
        its connection, ``before`` the host acts on it or ``after`` (the host
        did it; the client never hears)."""
        assert when in ("before", "after")
        self.drops[method] = [after, when]

    def inject_failure(self, method: str, description: list[str], after: int = 0) -> None:
        """Fault injection: the call to ``method`` after ``after`` successful
        ones fails with ``description`` (e.g. ["PIF_CONFIGURATION_ERROR", ...])."""
        self.faults[method] = [after, description]
