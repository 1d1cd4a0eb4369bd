"""Validating a WebSocket opening handshake (RFC 6455 4.2.1) before the application sees it.

An invalid handshake is answered by the server (400, or 426 for a version we do not speak)
and never reaches the application as ``websocket.connect``.
"""

from __future__ import annotations

import binascii
from base64 import b64decode

from ._request import header_tokens, host_problem
from ._types import RawHeaders


class HandshakeError(Exception):
    def __init__(self, status: int, detail: str, headers: RawHeaders = ()) -> None:  # type: ignore[assignment]
        super().__init__(detail)
        self.status = status
        self.headers = list(headers)


def _values(headers: RawHeaders, name: bytes) -> list[bytes]:
    return [value for key, value in headers if key.lower() == name]


def check_handshake(
    method: bytes, http_version: str, headers: RawHeaders, require_host: bool = True
) -> list[str]:
    """Return the offered subprotocols, or raise HandshakeError naming what is wrong.

    Called for every request whose ``Upgrade`` lists ``websocket`` (with ``upgrade`` in
    ``Connection``), whatever its method. RFC 6455 4.2.1 requires a server that finds such a
    request not to be a valid handshake to stop and answer an error such as 400, rather than
    serve it as ordinary HTTP: a POST that asks for a WebSocket gets 400, and its body is
    never read, neither as WebSocket frames nor as a request body (httptools skips the body
    of an upgrade request, so the two parsers could not agree on it anyway).
    """
    if method != b"GET":
        raise HandshakeError(400, f"expected GET for a WebSocket handshake, got {method!r}")
    if http_version != "1.1":
        raise HandshakeError(
            400, f"expected HTTP/1.1 for a WebSocket handshake, got {http_version}"
        )
    problem = host_problem(http_version, headers, require_host)
    if problem is not None:
        raise HandshakeError(400, problem)
    if b"upgrade" not in header_tokens(headers, b"connection"):
        raise HandshakeError(400, "expected 'Connection: Upgrade' in the WebSocket handshake")
    if b"websocket" not in header_tokens(headers, b"upgrade"):
        raise HandshakeError(400, "expected 'Upgrade: websocket' in the WebSocket handshake")
    check_version(headers)
    keys = _values(headers, b"sec-websocket-key")
    if len(keys) != 1:
        raise HandshakeError(400, f"expected one Sec-WebSocket-Key header, got {len(keys)}")
    try:
        decoded = b64decode(keys[0].strip(), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != 16:
        raise HandshakeError(400, "expected Sec-WebSocket-Key to be 16 bytes in base64")
    return offered_subprotocols(headers)


def check_version(headers: RawHeaders) -> None:
    """RFC 6455 4.2.2: a version other than 13 is answered 426 naming the one we speak."""
    versions = header_tokens(headers, b"sec-websocket-version")
    if versions != [b"13"]:
        raise HandshakeError(
            426,
            f"expected Sec-WebSocket-Version 13, got {b','.join(versions).decode('latin-1')!r}",
            [(b"sec-websocket-version", b"13")],
        )


def offered_subprotocols(headers: RawHeaders) -> list[str]:
    """Every subprotocol the client offered, in order (names are case-sensitive)."""
    return [
        t.strip().decode("latin-1")
        for v in _values(headers, b"sec-websocket-protocol")
        for t in v.split(b",")
        if t.strip()
    ]


def extension_offers(headers: RawHeaders) -> str | None:
    """The extension offers, several headers joined, for Autobahn to negotiate."""
    offers = _values(headers, b"sec-websocket-extensions")
    return b", ".join(offers).decode("latin-1") if offers else None


def accepted_fields(headers: RawHeaders) -> tuple[str, str | None]:
    """The key and the extension offers of a checked handshake."""
    key = _values(headers, b"sec-websocket-key")[0].strip().decode("latin-1")
    return key, extension_offers(headers)


__all__ = [
    "HandshakeError",
    "accepted_fields",
    "check_handshake",
    "check_version",
    "extension_offers",
    "offered_subprotocols",
]
