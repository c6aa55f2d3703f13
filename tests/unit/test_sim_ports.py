"""A simulator's pool listens on one port on every host's address; when the
port the system chose for the master is taken on a member's address (another
simulator of the same machine: tests run in parallel), another is tried."""

import errno

import pytest
import XenAPI

from xstui.sim.runner import start_simulator
from xstui.sim.server import SimServer


def test_a_port_taken_on_a_member_address_is_tried_again(monkeypatch):
    real = SimServer.listen_tcp
    refused = []

    def listen_tcp(self, address, port, host_ref=None):
        if address == "127.10.0.12" and not refused:
            refused.append(port)
            raise OSError(errno.EADDRINUSE, "Address already in use")
        return real(self, address, port, host_ref)

    monkeypatch.setattr(SimServer, "listen_tcp", listen_tcp)
    running = start_simulator("demo", task_delay=0.01)
    try:
        assert refused  # the first port was given up, the pool started on another
        assert set(running.member_urls) == {"xcp-b", "xcp-c"}
        session = XenAPI.Session(running.member_urls["xcp-b"])
        with pytest.raises(XenAPI.Failure) as err:  # a member sends the client to its master
            session.xenapi.login_with_password("root", running.password, "1.0", "t")
        assert err.value.details[0] == "HOST_IS_SLAVE"
    finally:
        running.close()


def test_nothing_listens_after_close():
    """A restart or address move the simulator scheduled before it closed
    (a host rebooting) must not leave a listener serving: it held its port
    and file descriptor for later tests (EADDRINUSE when a host restarted)."""
    import socket

    running = start_simulator("demo", task_delay=0.01)
    server, master = running.server, running.sim.master
    address, port = "127.10.0.11", server.pool_port
    server.stop_host(master)  # the master reboots...
    running.close()  # ...and the simulator closes before it comes back
    server.restart_host(master)
    with pytest.raises(OSError):
        server.listen_tcp(address, port, master)
    assert not server.listeners
    probe = socket.socket()
    try:
        probe.bind((address, port))  # free: nothing kept it
    finally:
        probe.close()
