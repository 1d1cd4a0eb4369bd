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
    use_forwarded: bool = True
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


def _strip_port(value: str) -> tuple[str, int | None]:
    """Split "host", "host:port", "[v6]" or "[v6]:port" (RFC 7239 node syntax)."""
    value = value.strip().strip('"')
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    else:
        host, port = value, ""
    return host, int(port) if port.isdigit() else None


def _pick_client(config: ProxyConfig, chain: list[str]) -> str | None:
    for candidate in reversed(chain):
        host, _ = _strip_port(candidate)
        if not config.is_trusted(host):
            return host
    return _strip_port(chain[0])[0] if chain else None


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


def _from_forwarded(config: ProxyConfig, value: str) -> tuple[str | None, int | None, str | None]:
    hops = parse_forwarded(value)
    chain = [hop["for"] for hop in hops if "for" in hop]
    host = _pick_client(config, chain)
    port = None
    for hop in reversed(hops):
        if "for" in hop and _strip_port(hop["for"])[0] == host:
            port = _strip_port(hop["for"])[1]
            break
    proto = next((hop["proto"] for hop in reversed(hops) if "proto" in hop), None)
    return host, port, proto


def apply_proxy_headers(
    config: ProxyConfig,
    headers: list[tuple[bytes, bytes]],
    client: Address | None,
    scheme: str,
) -> tuple[Address | None, str]:
    """Return the (client, scheme) the request claims, if the peer is trusted to say so."""
    if not config.is_trusted(client[0] if client else None):
        return client, scheme
    host: str | None = None
    port: int | None = None
    proto: str | None = None
    forwarded = _get(headers, b"forwarded") if config.use_forwarded else None
    if forwarded:
        host, port, proto = _from_forwarded(config, forwarded)
    else:
        chain = _get(headers, config.address_header)
        if chain:
            host = _pick_client(config, [c for c in chain.split(",") if c.strip()])
        port_value = _get(headers, config.port_header)
        if port_value and port_value.strip().isdigit():
            port = int(port_value.strip())
        proto = _get(headers, config.proto_header)
    if host:
        # The peer's port is the proxy's, not the client's: without a forwarded port it is 0.
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
    "parse_forwarded",
    "parse_networks",
]
