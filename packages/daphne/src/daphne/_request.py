"""Rules for an HTTP/1.x request head, decided here so both parsers behave the same.

Pure functions over the parsed header list: whether the connection stays open, whether the
request asks for a WebSocket, and whether its ``Content-Length`` and ``Expect`` are
acceptable. A request the server refuses raises :class:`Reject` with the status to answer.
"""

from __future__ import annotations

from ._types import RawHeaders


class Reject(Exception):
    """The server answers this request itself with ``status`` (and then closes)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def keep_alive(version: str, headers: RawHeaders) -> bool:
    """RFC 9112 9.3: HTTP/1.1 stays open unless ``close``; HTTP/1.0 only with ``keep-alive``."""
    tokens: list[bytes] = []
    for name, value in headers:
        if name == b"connection":
            tokens += [t.strip().lower() for t in value.split(b",")]
    if version == "1.0":
        return b"keep-alive" in tokens
    return b"close" not in tokens


def is_websocket_upgrade(headers: RawHeaders) -> bool:
    """Whether an ``Upgrade`` header (names as received, any case) asks for ``websocket``."""
    for name, value in headers:
        if name.lower() == b"upgrade" and b"websocket" in value.lower():
            return True
    return False


def check_length_and_expect(headers: RawHeaders, max_body_size: int | None) -> bool:
    """Refuse a declared body over the limit (413) or an unknown expectation (417); return
    whether the client waits for ``100 Continue``. Header names are lower-case here."""
    expect = False
    for name, value in headers:
        if name == b"content-length" and max_body_size is not None:
            if value.strip().isdigit() and int(value) > max_body_size:
                raise Reject(413, f"Content-Length {int(value)} exceeds the limit {max_body_size}")
        elif name == b"expect":
            if value.lower() != b"100-continue":
                raise Reject(417, f"expected 'Expect: 100-continue', got {value[:40]!r}")
            expect = True
    return expect


__all__ = ["Reject", "check_length_and_expect", "is_websocket_upgrade", "keep_alive"]
