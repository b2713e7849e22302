"""Tests cannot reach a network by accident: pyproject.toml's pytest options let a socket
connect only to loopback (pytest-socket), so a forgotten real URL fails at once instead of
calling a vendor. These tests use no marker: they show the guard every test runs under."""

import socket

import httpx
import pytest
from pytest_socket import SocketConnectBlockedError

# TEST-NET-1 (RFC 5737): documentation-only addresses that no one answers; never reached here.
UNREACHABLE = "192.0.2.1"
# The guard also warns each time it refuses; here refusing is the point.
pytestmark = pytest.mark.filterwarnings("ignore:A test tried to use socket")


def test_a_connection_to_a_network_address_is_refused_before_it_leaves():
    with pytest.raises(SocketConnectBlockedError, match=UNREACHABLE):
        socket.create_connection((UNREACHABLE, 443), timeout=0.5)


def test_an_http_call_to_a_network_address_is_refused():
    with pytest.raises(SocketConnectBlockedError, match=UNREACHABLE), httpx.Client(timeout=0.5) as client:
        client.get(f"http://{UNREACHABLE}/")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_stays_open_for_live_servers_and_local_services(host):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection((host, port), timeout=1) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(b"ping")
                assert peer.recv(4) == b"ping"
