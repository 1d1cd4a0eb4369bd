"""Graceful shutdown on SIGTERM: in-flight HTTP finishes, WebSockets get 1001, then exit."""

from __future__ import annotations

import base64
import os
import signal
import socket
import struct
import threading

import httpx
import pytest


def _open_websocket(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(
        b"GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101")
    return sock


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_sigterm_drains_http_and_closes_websockets(cli_server, free_port, record, wait_for, loop):
    port = free_port()
    args = ["-p", str(port), "--loop", loop, "--shutdown-timeout", "20", "daphne_test_apps:app"]
    with cli_server(args, port=port) as process:
        result = {}

        def slow_request():
            result["response"] = httpx.get(
                f"http://127.0.0.1:{port}/slow-response?s=1.5&{record.query}", timeout=30
            )

        thread = threading.Thread(target=slow_request)
        thread.start()
        ws = _open_websocket(port)
        wait_for(lambda: {"event": "started"} in record.events())
        process.send_signal(signal.SIGTERM)
        frame = ws.recv(4096)
        assert frame[0] & 0x0F == 0x8, frame
        assert struct.unpack("!H", frame[2:4])[0] == 1001
        # Listening stopped before sockets were closed, so new connections are refused now.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        thread.join(30)
        response = result["response"]
        assert response.status_code == 200
        assert response.text == "finished"
        assert response.headers["connection"] == "close"
        process.wait(30)
        assert process.returncode == 0
        ws.close()


def _accepted_socket(port):
    """A connection the server has accepted and that has sent nothing yet.

    Connections are accepted in the order they queued, so once a request made on a later
    connection has been answered, this one has been accepted too.
    """
    fresh = socket.create_connection(("127.0.0.1", port), timeout=30)
    assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200
    return fresh


def _read_response(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_a_connection_accepted_just_before_sigterm_still_gets_its_request_answered(
    cli_server, free_port
):
    # Its client has just connected and may be sending its request as the server stops;
    # closing it at once would fail a request that no client retries on a fresh connection.
    port = free_port()
    args = ["-p", str(port), "--shutdown-timeout", "20", "daphne_test_apps:app"]
    with cli_server(args, port=port) as process, _accepted_socket(port) as fresh:
        ws = _open_websocket(port)
        process.send_signal(signal.SIGTERM)
        # The WebSocket's 1001 means every connection has been told to shut down.
        frame = ws.recv(4096)
        assert frame[0] & 0x0F == 0x8 and struct.unpack("!H", frame[2:4])[0] == 1001
        fresh.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        response = _read_response(fresh)
        assert response.startswith(b"HTTP/1.1 200"), response
        assert b"\r\nconnection: close\r\n" in response.lower()
        process.wait(30)
        assert process.returncode == 0
        ws.close()


def test_a_connection_that_never_sends_does_not_hold_shutdown_up(cli_server, free_port):
    port = free_port()
    args = ["-p", str(port), "--shutdown-timeout", "120", "daphne_test_apps:app"]
    with cli_server(args, port=port) as process, _accepted_socket(port) as silent:
        process.send_signal(signal.SIGTERM)
        # Closed after its grace (about a second), far inside the 120 s shutdown timeout;
        # the wait below is only a hang guard.
        assert _read_response(silent) == b""
        process.wait(60)
        assert process.returncode == 0
