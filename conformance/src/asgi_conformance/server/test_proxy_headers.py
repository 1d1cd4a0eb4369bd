"""Proxy headers: X-Forwarded-* and RFC 7239 Forwarded, believed only from trusted peers.

These checks need the commands ``--server-proxy-cmd`` (proxy headers on, 127.0.0.1
trusted) and ``--server-untrusted-proxy-cmd`` (proxy headers on, 127.0.0.1 not trusted).
The kit's own connection plays the proxy: it comes from 127.0.0.1.
"""

from __future__ import annotations

import pytest

from ._kit import Kit


def _client(kit: Kit, kind: str, *headers: tuple[str, str]) -> list[object] | None:
    client = kit.scope("/scope", *headers, kind=kind).get("client")
    return list(client) if client is not None else None


def test_no_proxy_headers_by_default(server_kit: Kit) -> None:
    """ASGI HTTP "Connection Scope" client: with proxy headers not enabled, a client's
    X-Forwarded-For never changes scope["client"]."""
    client = _client(server_kit, "main", ("X-Forwarded-For", "10.9.9.9"))
    assert client is not None and client[0] == "127.0.0.1", client


def test_trusted_proxy_sets_client(server_kit: Kit) -> None:
    """X-Forwarded-For (de facto, RFC 7239 §5.2 analogue): from a trusted proxy the client
    address is the forwarded one."""
    client = _client(server_kit, "proxy", ("X-Forwarded-For", "10.1.2.3"))
    assert client is not None and client[0] == "10.1.2.3", client


def test_trusted_proxy_chain_uses_the_nearest_untrusted_address(server_kit: Kit) -> None:
    """RFC 7239 §5.2 and X-Forwarded-For practice: in a chain "a, b" appended by proxies the
    client is the right-most address not trusted (b); left entries are client-supplied."""
    client = _client(server_kit, "proxy", ("X-Forwarded-For", "6.6.6.6, 10.1.2.3"))
    assert client is not None and client[0] == "10.1.2.3", client


def test_trusted_proxy_sets_scheme(server_kit: Kit) -> None:
    """X-Forwarded-Proto from a trusted proxy sets scope["scheme"]."""
    scope = server_kit.scope("/scope", ("X-Forwarded-Proto", "https"), kind="proxy")
    assert scope["scheme"] == "https", scope["scheme"]


def test_untrusted_peer_is_ignored(server_kit: Kit) -> None:
    """Proxy headers from a peer that is not trusted never reach scope["client"] or
    scope["scheme"]."""
    scope = server_kit.scope(
        "/scope",
        ("X-Forwarded-For", "10.1.2.3"),
        ("X-Forwarded-Proto", "https"),
        ("Forwarded", "for=10.4.4.4;proto=https"),
        kind="untrusted_proxy",
    )
    assert scope["client"][0] == "127.0.0.1", scope["client"]
    assert scope["scheme"] == ("https" if server_kit.tls else "http"), scope["scheme"]


INVALID_FOR: dict[str, tuple[tuple[str, str], ...]] = {
    "not-an-ip": (("X-Forwarded-For", "not-an-ip"),),
    "bad-octets": (("X-Forwarded-For", "999.1.1.1"),),
    "xff-huge-port": (("X-Forwarded-For", "10.0.0.1"), ("X-Forwarded-Port", "99999")),
    "xff-port-not-a-number": (("X-Forwarded-For", "10.0.0.1"), ("X-Forwarded-Port", "http")),
    "huge-port": (("Forwarded", 'for="10.0.0.1:999999"'),),
    "forwarded-garbage": (("Forwarded", "for=<script>"),),
    "forwarded-obfuscated": (("Forwarded", "for=_hidden"),),
}


@pytest.mark.parametrize("variant", list(INVALID_FOR))
def test_invalid_forwarded_values_never_reach_scope(server_kit: Kit, variant: str) -> None:
    """RFC 7239 §6 (node names) and ASGI "client": values that are not IP addresses (or
    ports out of 0-65535) never reach scope["client"], even from a trusted proxy."""
    client = _client(server_kit, "proxy", *INVALID_FOR[variant])
    if client is not None:
        host, port = client[0], client[1]
        assert host not in ("not-an-ip", "999.1.1.1", "<script>", "_hidden"), client
        assert isinstance(port, int) and 0 <= port <= 65535, client


def test_client_forwarded_does_not_override_proxy_x_forwarded_for(server_kit: Kit) -> None:
    """RFC 7239 §8.1: a Forwarded header the client sent through a proxy that only appends
    X-Forwarded-For must not replace the proxy's address, unless the server was
    explicitly configured to believe Forwarded (claim "forwarded")."""
    if server_kit.claims("forwarded"):
        pytest.skip("not supported: the server claims 'forwarded', so Forwarded is believed")
    client = _client(
        server_kit, "proxy", ("Forwarded", "for=6.6.6.6"), ("X-Forwarded-For", "10.1.2.3")
    )
    assert client is not None and client[0] == "10.1.2.3", (
        f"expected the proxy's X-Forwarded-For 10.1.2.3, got {client} (a spoofed Forwarded won)"
    )


def test_forwarded_sets_client_when_enabled(server_kit: Kit) -> None:
    """RFC 7239 §5.2: with Forwarded enabled (claim "forwarded"), for= from a trusted proxy
    sets scope["client"]."""
    server_kit.require("forwarded")
    client = _client(server_kit, "proxy", ("Forwarded", 'for="10.7.7.7:4321";proto=https'))
    assert client is not None and client[0] == "10.7.7.7", client
