"""HTTP/2 over cleartext (h2c): recognising it, with no IO.

Two ways in (RFC 7540 3.2 and 3.4; RFC 9113 keeps only the second):

- **Prior knowledge**: the client's first bytes are the 24-byte connection preface. Only a
  connection's first bytes are looked at, and only while they are still a prefix of the
  preface; anything else is HTTP/1.1 and reaches the HTTP/1.1 parser byte for byte, so
  HTTP/1.1 parsing is exactly as strict as without h2c (``PRI * HTTP/2.0`` could never be a
  valid HTTP/1.1 request: its version is refused with 505).
- **Upgrade**: an HTTP/1.1 request with ``Upgrade: h2c``, ``Connection: Upgrade,
  HTTP2-Settings`` and exactly one ``HTTP2-Settings`` (base64url SETTINGS payload). Off unless
  ``--h2c upgrade``: behind a proxy that relays ``Upgrade`` and then tunnels, it would let a
  client talk past the proxy's rules ("h2c smuggling"). A request without the settings header
  is not an h2c upgrade (RFC 7540 3.2.1: the server MUST NOT upgrade). A request with a
  ``Content-Length`` body is upgraded and the body becomes stream 1's body; one with
  ``Transfer-Encoding`` is refused (400): its end is not known before the switch.
"""

from __future__ import annotations

import base64
import binascii
import enum

from ._request import header_tokens, upgrade_body_length
from ._types import RawHeaders

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# A SETTINGS entry is 6 bytes and HTTP/2 defines 7 of them; this leaves room for extensions
# while keeping a hostile header from costing more than a glance.
MAX_SETTINGS_HEADER = 1024
# Header fields that are about one HTTP/1.1 hop and must not appear in HTTP/2 (RFC 9113 8.2.2).
_HOP_BY_HOP = frozenset(
    {b"connection", b"upgrade", b"http2-settings", b"keep-alive", b"proxy-connection", b"host"}
)


def h2_available() -> bool:
    """Whether the HTTP/2 extra (``h2``, ``priority``) is installed."""
    try:
        import h2  # noqa: F401
        import priority  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return False
    return True


class Sniffed(enum.Enum):
    HTTP2 = "http2"  # the preface arrived whole
    HTTP1 = "http1"  # these bytes cannot be the preface
    UNDECIDED = "undecided"  # a strict prefix of the preface so far


def sniff(data: bytes) -> Sniffed:
    """Classify a connection's first bytes (all of them received so far)."""
    if data.startswith(PREFACE):
        return Sniffed.HTTP2
    if PREFACE.startswith(data):
        return Sniffed.UNDECIDED
    return Sniffed.HTTP1


class UpgradeRefused(Exception):
    """An h2c upgrade that is answered with 400 over HTTP/1.1 instead of switching."""


def wants_h2c(headers: RawHeaders) -> bool:
    """Whether a request asks for h2c the RFC 7540 3.2 way (Upgrade and Connection tokens)."""
    return b"h2c" in header_tokens(headers, b"upgrade") and b"http2-settings" in header_tokens(
        headers, b"connection"
    )


def settings_payload(headers: RawHeaders) -> bytes:
    """The decoded ``HTTP2-Settings`` of an h2c upgrade request, or UpgradeRefused."""
    values = [value for name, value in headers if name.lower() == b"http2-settings"]
    if len(values) != 1:
        raise UpgradeRefused(f"expected one HTTP2-Settings header, got {len(values)}")
    value = values[0].strip()
    if len(value) > MAX_SETTINGS_HEADER:
        raise UpgradeRefused(
            f"expected an HTTP2-Settings header of at most {MAX_SETTINGS_HEADER} bytes, "
            f"got {len(value)}"
        )
    try:
        padded = value + b"=" * (-len(value) % 4)
        payload = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise UpgradeRefused("expected HTTP2-Settings in base64url") from None
    if len(payload) % 6:
        raise UpgradeRefused(
            f"expected HTTP2-Settings to hold 6-byte entries, got {len(payload)} bytes"
        )
    return payload


def body_length(headers: RawHeaders) -> int:
    """The length of an h2c upgrade request's body (0 when none), or UpgradeRefused."""
    length = upgrade_body_length(headers)
    if length is None:
        raise UpgradeRefused("expected no Transfer-Encoding in an h2c upgrade request")
    return length


def stream_one_headers(
    method: bytes, target: bytes, headers: RawHeaders
) -> list[tuple[bytes, bytes]]:
    """The upgraded request as HTTP/2 stream 1's header list (RFC 7540 3.2, 8.1.2.3)."""
    authority = [value for name, value in headers if name.lower() == b"host"]
    pseudo = [(b":method", method), (b":scheme", b"http"), (b":path", target)]
    if authority:
        pseudo.append((b":authority", authority[0]))
    regular = [
        (name.lower(), value)
        for name, value in headers
        if name.lower() not in _HOP_BY_HOP
        and (name.lower() != b"te" or value.strip().lower() == b"trailers")
    ]
    return pseudo + regular


__all__ = [
    "MAX_SETTINGS_HEADER",
    "PREFACE",
    "Sniffed",
    "UpgradeRefused",
    "body_length",
    "h2_available",
    "settings_payload",
    "sniff",
    "stream_one_headers",
    "wants_h2c",
]
