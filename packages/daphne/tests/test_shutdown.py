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
