"""Slow clients against the production set-up: nginx (deploy/proxy) in front of gunicorn.

A client that sends its headers a line at a time holds a gunicorn worker for as long as it
likes; with two sync workers, two such clients and every other request waits. Behind the proxy,
100 of them are held by nginx while normal requests are served, and a client past the header or
body timeout is disconnected by the proxy.
"""
from __future__ import annotations

import socket
import threading
from contextlib import ExitStack, closing
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.processes import Proxy

SLOW_CLIENTS = 100
TRICKLE_SECONDS = 0.5


def slow_connection(url: str) -> socket.socket:
    """A connection that has sent a request line and one header, and not the end of its headers."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
    return sock


def trickle(sockets: list[socket.socket], stop: threading.Event) -> None:
    """One more header line on every connection each TRICKLE_SECONDS, until `stop`."""
    while not stop.wait(TRICKLE_SECONDS):
        for sock in sockets:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                pass  # disconnected by the server


def normal_requests(url: str, count: int = 20, timeout: float = 10) -> list[int]:
    with httpx.Client(base_url=url, timeout=timeout) as http:
        return [http.get("/health").status_code for _ in range(count)]


@pytest.fixture
def slow_clients():
    """Factory: SLOW_CLIENTS slow connections to a URL, trickling headers until the test ends."""
    with ExitStack() as stack:
        def open_to(url: str) -> list[socket.socket]:
            sockets = [stack.enter_context(closing(slow_connection(url))) for _ in range(SLOW_CLIENTS)]
            stop = threading.Event()
            thread = threading.Thread(target=trickle, args=(sockets, stop), daemon=True)
            thread.start()
            stack.callback(thread.join)
            stack.callback(stop.set)
            return sockets
        yield open_to


def test_without_the_proxy_slow_clients_starve_gunicorn(app, live_server, slow_clients):
    """The fault the proxy is for: two sync workers held by slow clients answer nobody else."""
    server = live_server(app, workers=2)
    slow_clients(server.url)
    with pytest.raises(httpx.TimeoutException):
        normal_requests(server.url, count=1, timeout=3)


def test_behind_the_proxy_normal_requests_are_served_while_100_slow_clients_hang_on(app, live_server, slow_clients):
    server = live_server(app, workers=2)
    proxy = Proxy(app, server, PROXY_HEADER_TIMEOUT=120)
    try:
        slow = slow_clients(proxy.url)
        assert normal_requests(proxy.url) == [200] * 20
        # Meanwhile every slow client is still connected, unanswered: nginx holds them, not gunicorn.
        assert [still_waiting(sock) for sock in slow] == [True] * SLOW_CLIENTS
    finally:
        proxy.stop()


def still_waiting(sock: socket.socket) -> bool:
    """Whether the server has neither answered nor closed the connection."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)
        return False  # an answer, or the end of the connection
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)


def read_until_closed(sock: socket.socket, patience: float) -> bytes:
    """Everything the server sends until it closes the connection; fails after `patience` s."""
    sock.settimeout(patience)
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def test_the_proxy_disconnects_a_client_past_the_header_timeout(app, live_server):
    server = live_server(app, workers=2)
    proxy = Proxy(app, server, PROXY_HEADER_TIMEOUT=2)
    try:
        with closing(slow_connection(proxy.url)) as sock:
            stop = threading.Event()
            thread = threading.Thread(target=trickle, args=([sock], stop), daemon=True)
            thread.start()
            try:
                answer = read_until_closed(sock, patience=20)  # closed by the proxy, or a timeout error
            finally:
                stop.set()
                thread.join()
        assert b"200 OK" not in answer  # never answered by the app
    finally:
        proxy.stop()


def test_the_proxy_disconnects_a_client_past_the_body_timeout(app, live_server):
    server = live_server(app, workers=2)
    proxy = Proxy(app, server, PROXY_BODY_TIMEOUT=2)
    try:
        parts = urlsplit(proxy.url)
        with closing(socket.create_connection((parts.hostname, parts.port), timeout=10)) as sock:
            sock.sendall(b"POST /auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{")
            answer = read_until_closed(sock, patience=20)
        assert b"HTTP/1.1 408" in answer or answer == b""
    finally:
        proxy.stop()
