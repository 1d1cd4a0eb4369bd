"""Upstream's ``parse_x_forwarded_for`` helper, on top of the server's own proxy rules.

The helper believes whatever headers it is given (callers decide whom to trust); the server
itself only reads them from trusted peers (``_proxy``). Within the chain, the left-most address
is the client, as upstream reads it: with every hop trusted, ``_proxy`` picks the same one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._proxy import ProxyConfig, apply_proxy_headers

Headers = Mapping[bytes, Any]


def _as_mapping(headers: Any) -> Headers:
    """Twisted ``Headers`` (anything with ``getAllRawHeaders``) or a mapping of bytes names."""
    if hasattr(headers, "getAllRawHeaders"):
        return dict(headers.getAllRawHeaders())
    if not isinstance(headers, Mapping):
        raise TypeError(f"expected a mapping of header names or Twisted Headers, got {headers!r}")
    return headers


def _first(value: bytes | Iterable[bytes]) -> bytes:
    if isinstance(value, bytes):
        return value
    for item in value:
        return item
    return b""


def header_value(headers: Headers, header_name: bytes) -> str:
    """The (first) value of ``header_name`` in ``headers``, decoded as UTF-8.

    Values may be bytes or lists of bytes, as Twisted's ``Headers`` and plain dicts hold them.
    Raises ``KeyError`` when the header is absent.
    """
    return _first(headers[header_name]).decode("utf-8")


def parse_x_forwarded_for(
    headers: Any,
    address_header_name: str | None = "X-Forwarded-For",
    port_header_name: str | None = "X-Forwarded-Port",
    proto_header_name: str | None = "X-Forwarded-Proto",
    original_addr: list[Any] | None = None,
    original_scheme: str | None = None,
) -> tuple[list[Any] | None, str | None]:
    """Return ``([host, port], scheme)`` claimed by the forwarding headers.

    Without the address header the originals come back unchanged; the port is 0 when no port
    header was sent, and the port and scheme are only read alongside an address.
    """
    if not address_header_name:
        return original_addr, original_scheme
    pairs = [(name.lower(), _first(value)) for name, value in _as_mapping(headers).items()]
    names = {name for name, _ in pairs}
    address = address_header_name.lower().encode("latin-1")
    if address not in names:
        return original_addr, original_scheme
    config = ProxyConfig(
        address_header=address,
        port_header=port_header_name.lower().encode("latin-1") if port_header_name else None,
        proto_header=proto_header_name.lower().encode("latin-1") if proto_header_name else None,
        use_forwarded=False,
        trusted=None,
    )
    client, scheme = apply_proxy_headers(config, pairs, None, "")
    return (list(client) if client else original_addr), (scheme or original_scheme)


__all__ = ["header_value", "parse_x_forwarded_for"]
