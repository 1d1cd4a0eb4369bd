"""The kit's half-closing TLS client against a plain ``ssl`` server in a thread."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

from asgi_conformance.server._tlsbio import MemoryBioTLSSocket
from asgi_conformance.server._wire import client_tls_context

CERTS = Path(__file__).parents[2] / "src" / "asgi_conformance" / "server" / "certs"


def _serve_once(listener: socket.socket, seen: list[bytes]) -> None:
    """Read until the client's close_notify, then answer with what arrived, then close."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERTS / "cert.pem", CERTS / "key.pem")
    raw, _ = listener.accept()
    with context.wrap_socket(raw, server_side=True) as conn:
        received = b""
        while data := conn.recv(65536):  # b"" here is the client's close_notify
            received += data
        seen.append(received)
        conn.sendall(b"after close_notify: " + received)
        conn.unwrap()  # our close_notify; the client has already sent its own


def test_shutdown_write_sends_close_notify_and_keeps_reading() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        seen: list[bytes] = []
        server = threading.Thread(target=_serve_once, args=(listener, seen), daemon=True)
        server.start()
        raw = socket.create_connection(listener.getsockname(), timeout=10)
        client = MemoryBioTLSSocket(raw, client_tls_context(), "127.0.0.1")
        client.sendall(b"ping")
        client.shutdown(socket.SHUT_WR)
        answer = b""
        while data := client.recv(65536):
            answer += data
        client.close()
        server.join(10)
    assert seen == [b"ping"]
    assert answer == b"after close_notify: ping"
