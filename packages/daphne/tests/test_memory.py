"""Connections free their objects by reference counting, without the cycle collector.

A connection that leaves a reference cycle behind costs nothing at first, but under load the
collector then runs every few hundred connections and walks every live object each time
(measured: a quarter of the server's CPU in a handshake benchmark). The server process runs
``gc_app``; its ``/gc`` endpoint turns automatic collection off and reports how many objects
a full collection freed, so the second call counts what the traffic in between left in cycles.
"""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

ROUNDS = 30


@pytest.fixture
def gc_server(pool, stack):
    return pool.get("daphne_test_apps:gc_app", **stack)


def collected(server) -> dict:
    response = httpx.get(f"http://{server[0]}:{server[1]}/gc")
    response.raise_for_status()
    return dict(response.json())


def assert_no_cycles_left(server, traffic) -> None:
    collected(server)  # start clean, with automatic collection off
    traffic()
    left = collected(server)
    # A connection caught in a cycle leaves dozens of objects (protocol, parser, transport
    # wrapper, bound methods, dicts); fewer than one object per connection means none did.
    assert left["collected"] < ROUNDS, (
        f"{left['collected']} objects were only freed by the cycle collector: {left['kinds']}"
    )
    # Instances whose client left are watched for application_close_timeout (10 s), but only
    # until they return: finished ones must not stay reachable (with coroutine and context).
    assert left["tasks"] <= 3, f"{left['tasks']} application tasks are still alive"


def raw(server, data: bytes) -> bytes:
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_http_keep_alive_connections(gc_server):
    def traffic():
        for _ in range(ROUNDS):
            with httpx.Client() as client:
                for _ in range(3):
                    assert client.get(f"http://{gc_server[0]}:{gc_server[1]}/").status_code == 200
                body = b"x" * 100_000
                response = client.post(f"http://{gc_server[0]}:{gc_server[1]}/echo", content=body)
                assert response.content == body

    assert_no_cycles_left(gc_server, traffic)


def test_http_close_and_errors(gc_server):
    def traffic():
        for _ in range(ROUNDS):
            reply = raw(gc_server, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert reply.startswith(b"HTTP/1.1 200")
            assert raw(gc_server, b"BOGUS\r\n\r\n").startswith(b"HTTP/1.1 400")
            assert httpx.get(f"http://{gc_server[0]}:{gc_server[1]}/error").status_code == 500

    assert_no_cycles_left(gc_server, traffic)


def test_websocket_connections(gc_server):
    url = f"ws://{gc_server[0]}:{gc_server[1]}"

    async def traffic():
        for _ in range(ROUNDS):
            async with websockets.connect(f"{url}/ws/echo") as ws:
                await ws.send("hello")
                assert await ws.recv() == "hello"
            async with websockets.connect(f"{url}/ws/close") as ws:
                with pytest.raises(ConnectionClosed):
                    await ws.recv()
            with pytest.raises(InvalidStatus):
                async with websockets.connect(f"{url}/ws/reject"):
                    pass
            async with websockets.connect(f"{url}/ws/error") as ws:
                with pytest.raises(ConnectionClosed):
                    await ws.recv()

    assert_no_cycles_left(gc_server, lambda: asyncio.run(traffic()))


def test_websocket_clients_that_vanish(gc_server):
    handshake = (
        b"GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )

    def traffic():
        for _ in range(ROUNDS):
            with socket.create_connection(gc_server, timeout=10) as sock:
                sock.sendall(handshake)
                assert sock.recv(4096).startswith(b"HTTP/1.1 101")
            # closed without a close frame: the server sees the TCP connection drop

    assert_no_cycles_left(gc_server, traffic)
