"""Proxy headers: which peers may set the client address and scheme, and how they are read.

Forwarded headers are only believed when the TCP peer is in the trusted allow-list; any other
peer could forge them. Within a trusted chain the client is the right-most address that is not
itself a trusted proxy (left-most entries are whatever the client chose to send).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from ._types import Address

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_TRUSTED = ("127.0.0.1/32", "::1/128")


def parse_networks(spec: Iterable[str] | str) -> tuple[Network, ...] | None:
    """Parse CIDRs ("10.0.0.0/8", "::1", ...); ``"*"`` means every peer (returns None)."""
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    items = [item for item in items if item]
    if "*" in items:
        return None
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"expected an IP address or CIDR network in the trusted proxy list, got {item!r}"
            ) from None
    return tuple(networks)


@dataclass(frozen=True)
class ProxyConfig:
    """Which forwarded headers to read (lower-case names) and whom to believe."""

    address_header: bytes | None = b"x-forwarded-for"
    port_header: bytes | None = b"x-forwarded-port"
    proto_header: bytes | None = b"x-forwarded-proto"
    # RFC 7239 ``Forwarded`` is read only when enabled (never by default): only for proxies
    # that set or overwrite it themselves. A request that carries it is then read from it alone.
    use_forwarded: bool = False
    trusted: tuple[Network, ...] | None = field(
        default_factory=lambda: parse_networks(DEFAULT_TRUSTED)
    )

    def is_trusted(self, host: str | None) -> bool:
        if self.trusted is None or host is None:
            # host is None for UNIX-socket peers, which are local by construction.
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            # Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d.
            address = address.ipv4_mapped
        return any(address in network for network in self.trusted)


def client_address(value: str) -> str | None:
    """``value`` if it is an IPv4 or IPv6 address, else None.

    Forwarded chains carry whatever the client or a proxy wrote: ``unknown``, obfuscated
    ``_hidden`` nodes, markup. Only an address may become ``scope["client"]``; an IPv6 zone
    (``fe80::1%eth0``) names an interface of the proxy's machine, never a remote client.
    """
    if "%" in value:
        return None
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return None
    return value


def client_port(value: str | None) -> int | None:
    """An ASCII decimal port in 0..65535, else None (``str.isdigit`` would take "²")."""
    if value is None or not 1 <= len(value) <= 5 or not value.isascii() or not value.isdigit():
        return None
    port = int(value)
    return port if port <= 65535 else None


def _split_node(value: str) -> tuple[str, str | None]:
    """Split "host", "host:port", "[v6]" or "[v6]:port" (RFC 7239 node syntax)."""
    value = value.strip().strip('"')
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, port
    return value, None


def _pick_client(config: ProxyConfig, chain: list[str]) -> tuple[str, int | None] | None:
    """The right-most node of ``chain`` that is not a trusted proxy, with its port.

    Entries to the left of it were written by someone no trusted proxy vouches for, so when
    that node is not an address (``unknown``, garbage) there is no answer and the peer's
    address stays.
    """
    for node in reversed(chain):
        text, port = _split_node(node)
        host = client_address(text)
        if host is None:
            return None
        if not config.is_trusted(host):
            return host, client_port(port)
    if chain:
        text, port = _split_node(chain[0])
        host = client_address(text)
        return None if host is None else (host, client_port(port))
    return None


def parse_forwarded(value: str) -> list[dict[str, str]]:
    """Parse an RFC 7239 ``Forwarded`` header into one dict per hop (keys lower-cased)."""
    hops = []
    for element in value.split(","):
        pairs: dict[str, str] = {}
        for pair in element.split(";"):
            key, sep, val = pair.partition("=")
            if sep:
                pairs[key.strip().lower()] = val.strip().strip('"')
        if pairs:
            hops.append(pairs)
    return hops


def _get(headers: list[tuple[bytes, bytes]], name: bytes | None) -> str | None:
    if name is None:
        return None
    values = [v for k, v in headers if k == name]
    if not values:
        return None
    return b",".join(values).decode("latin-1")


def _from_forwarded(
    config: ProxyConfig, value: str
) -> tuple[tuple[str, int | None] | None, str | None]:
    hops = parse_forwarded(value)
    node = _pick_client(config, [hop["for"] for hop in hops if "for" in hop])
    proto = next((hop["proto"] for hop in reversed(hops) if "proto" in hop), None)
    return node, proto


def _from_x_forwarded(
    config: ProxyConfig, headers: list[tuple[bytes, bytes]]
) -> tuple[tuple[str, int | None] | None, str | None]:
    chain = _get(headers, config.address_header)
    node = _pick_client(config, [c for c in chain.split(",") if c.strip()]) if chain else None
    if node is not None:
        port = _get(headers, config.port_header)
        node = (node[0], client_port(port.split(",")[-1].strip() if port else None))
    return node, _get(headers, config.proto_header)


def apply_proxy_headers(
    config: ProxyConfig,
    headers: list[tuple[bytes, bytes]],
    client: Address | None,
    scheme: str,
) -> tuple[Address | None, str]:
    """Return the (client, scheme) the request claims, if the peer is trusted to say so.

    One source is read, never a mix: ``Forwarded`` when ``use_forwarded`` is set and the request
    carries it, otherwise the configured X-Forwarded-* headers. Without ``use_forwarded`` a
    ``Forwarded`` header is ignored: a proxy that appends X-Forwarded-For usually passes the
    client's own ``Forwarded`` through untouched, so believing it would let the client choose
    its own address.
    """
    if not config.is_trusted(client[0] if client else None):
        return client, scheme
    forwarded = _get(headers, b"forwarded") if config.use_forwarded else None
    if forwarded:
        node, proto = _from_forwarded(config, forwarded)
    else:
        node, proto = _from_x_forwarded(config, headers)
    if node is not None:
        # The peer's port is the proxy's, not the client's: without a forwarded port it is 0.
        host, port = node
        client = (host, port if port is not None else 0)
    if proto:
        proto = proto.split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            scheme = proto
    return client, scheme


__all__ = [
    "DEFAULT_TRUSTED",
    "ProxyConfig",
    "apply_proxy_headers",
    "client_address",
    "client_port",
    "parse_forwarded",
    "parse_networks",
]
