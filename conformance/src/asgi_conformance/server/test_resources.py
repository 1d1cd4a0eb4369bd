"""Resource behaviour under attack: memory stays bounded and good clients are served.

The server's memory is its resident set size (``/proc/PID/status`` VmRSS, summed over
its worker processes), sampled while the attack runs. Each check allows a fixed growth
far below what buffering the attack would take.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest

from ._checks import describe
from ._kit import Kit
from ._process import ServerProcess, has_proc
from ._wire import Connection, request

MIB = 1 << 20


def _server(kit: Kit) -> ServerProcess:
    if not has_proc():
        pytest.skip("not supported: measuring memory needs Linux /proc")
    return kit.server()


def _serves_good_clients(server: ServerProcess) -> None:
    with Connection.open(server.target, timeout=10.0) as conn:
        conn.send(request("GET", "/good"))
        response = conn.read_response()
    assert response is not None and response.status == 200, (
        f"expected a good client to be served during the attack, got {describe(response)}"
    )


@contextlib.contextmanager
def _connections(server: ServerProcess, count: int) -> Iterator[list[Connection]]:
    opened: list[Connection] = []
    try:
        for _ in range(count):
            opened.append(Connection.open(server.target, timeout=10.0))
        yield opened
    finally:
        for conn in opened:
            conn.close()


def test_slow_readers_keep_memory_bounded(server_kit: Kit) -> None:
    """ASGI "Response Body - send event" back-pressure: four clients that never read a
    24 MiB streamed response do not make the server buffer it (growth under 48 MiB, about
    half of what buffering would take); good clients are served meanwhile."""
    server = _server(server_kit)
    before = server.rss()
    path = f"/stream?chunks={24 * 16}&size={64 * 1024}"
    with _connections(server, 4) as slow:
        for conn in slow:
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            conn.send(request("GET", path))
        peak = before
        for _ in range(30):
            time.sleep(0.1)
            peak = max(peak, server.rss())
        _serves_good_clients(server)
    growth = peak - before
    assert growth < 48 * MIB, f"expected bounded memory, grew by {growth // MIB} MiB"


def test_slowloris_keeps_memory_bounded(server_kit: Kit) -> None:
    """RFC 9110 §15.5.9 and RFC 9112 §9.5: 200 connections that send a request head one
    field at a time neither exhaust memory (growth under 40 MiB) nor stop good clients."""
    server = _server(server_kit)
    before = server.rss()
    with _connections(server, 200) as slow:
        for conn in slow:
            conn.send(b"GET / HTTP/1.1\r\nHost: kit.test\r\n")
        for round_ in range(5):
            for conn in slow:
                conn.send(f"X-Slow-{round_}: {'s' * 100}\r\n".encode())
            time.sleep(0.1)
        _serves_good_clients(server)
        peak = server.rss()
    growth = peak - before
    assert growth < 40 * MIB, f"expected bounded memory, grew by {growth // MIB} MiB"


def _flood(server: ServerProcess, head: bytes, line: bytes, count: int) -> int:
    """Send ``head`` then ``count`` 1 MiB lines made of ``line``; the peak RSS growth."""
    before = peak = server.rss()
    piece = line + b"x" * (MIB - len(line) - 2) + b"\r\n"
    with Connection.open(server.target, timeout=10.0) as conn:
        conn.send(head)
        for _ in range(count):
            if not conn.send(piece):
                break  # the server refused and closed: what a bounded server does
            peak = max(peak, server.rss())
        _serves_good_clients(server)
        peak = max(peak, server.rss())
    return peak - before


def test_oversized_chunked_trailers_keep_memory_bounded(server_kit: Kit) -> None:
    """RFC 9112 §7.1.2 and RFC 6585 §5: a chunked request whose trailer section grows to
    64 MiB is refused (or cut off) early: server memory grows by less than 32 MiB, and
    good clients are served meanwhile."""
    head = b"POST /echo HTTP/1.1\r\nHost: kit.test\r\nTransfer-Encoding: chunked\r\n\r\n"
    growth = _flood(_server(server_kit), head + b"2\r\nhi\r\n0\r\n", b"X-T: ", 64)
    assert growth < 32 * MIB, f"expected bounded memory, grew by {growth // MIB} MiB"


def test_oversized_header_stream_keeps_memory_bounded(server_kit: Kit) -> None:
    """RFC 6585 §5: a request head that never ends (64 MiB of header fields) is refused
    early: memory grows by less than 32 MiB and good clients are served."""
    head = b"GET / HTTP/1.1\r\nHost: kit.test\r\n"
    growth = _flood(_server(server_kit), head, b"X-H: ", 64)
    assert growth < 32 * MIB, f"expected bounded memory, grew by {growth // MIB} MiB"
