"""One HTTP/2 request over TLS with the ``h2`` library, headers sent exactly as given.

Validation of outgoing headers is off so that a check can send malformed requests
(RFC 9113 §8.1.1, §8.2); the answer is the response status, or how the server refused
the stream ("reset", "goaway").
"""

from __future__ import annotations

import importlib
import socket
import time
from typing import Any

import pytest

from ._kit import Kit
from ._wire import client_tls_context


def _h2() -> Any:
    try:  # imported by name: the kit installs without its optional clients
        for name in ("h2.config", "h2.connection", "h2.events"):
            importlib.import_module(name)
        return importlib.import_module("h2")
    except ImportError:
        pytest.fail("the HTTP/2 checks need h2: pip install 'asgi-conformance[server]'")


def h2_request(kit: Kit, headers: list[tuple[str, str]], body: bytes = b"") -> str:
    """The status of the response to one request ("200"), or "reset" / "goaway"."""
    h2 = _h2()
    target = kit.server().target
    raw = socket.create_connection((target.host, target.port), timeout=10)
    with client_tls_context(["h2"]).wrap_socket(raw, server_hostname=target.host) as tls:
        assert tls.selected_alpn_protocol() == "h2", "expected ALPN h2"
        config = h2.config.H2Configuration(
            client_side=True,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
            validate_inbound_headers=False,
        )
        conn = h2.connection.H2Connection(config)
        conn.initiate_connection()
        conn.send_headers(1, headers, end_stream=not body)
        if body:
            conn.send_data(1, body, end_stream=True)
        tls.sendall(conn.data_to_send())
        return _answer(h2, conn, tls)


def _answer(h2: Any, conn: Any, tls: Any) -> str:
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        try:
            data = tls.recv(65536)
        except (TimeoutError, OSError):
            return "goaway"
        if not data:
            return "goaway"
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status: bytes = dict(event.headers).get(b":status", b"?")
                return status.decode()
            if isinstance(event, h2.events.StreamReset):
                return "reset"
            if isinstance(event, h2.events.ConnectionTerminated):
                return "goaway"
        tls.sendall(conn.data_to_send())
    raise AssertionError("expected an HTTP/2 response or a refusal within 10 s")


__all__ = ["h2_request"]
