"""Proxy header rules: only trusted peers may set the client address and scheme."""

from __future__ import annotations

import httpx
import pytest
from daphne._proxy import ProxyConfig, apply_proxy_headers, parse_forwarded, parse_networks

LOCAL = ("127.0.0.1", 40000)


def apply(headers, client=LOCAL, **config):
    cfg = ProxyConfig(**config)
    return apply_proxy_headers(cfg, [(k.lower(), v) for k, v in headers], client, "http")


def test_x_forwarded_for_from_trusted_peer():
    client, scheme = apply([(b"x-forwarded-for", b"203.0.113.7"), (b"x-forwarded-port", b"1234")])
    assert client == ("203.0.113.7", 1234)
    assert scheme == "http"


def test_untrusted_peer_cannot_forge_headers():
    client, scheme = apply(
        [(b"x-forwarded-for", b"1.1.1.1"), (b"x-forwarded-proto", b"https")],
        client=("198.51.100.5", 999),
    )
    assert client == ("198.51.100.5", 999)
    assert scheme == "http"


def test_rightmost_untrusted_address_wins_in_a_chain():
    trusted = parse_networks("127.0.0.1,10.0.0.0/8")
    client, _ = apply([(b"x-forwarded-for", b"6.6.6.6, 203.0.113.9, 10.1.2.3")], trusted=trusted)
    assert client[0] == "203.0.113.9"


def test_trust_everyone_with_star():
    client, _ = apply(
        [(b"x-forwarded-for", b"203.0.113.1")], client=("8.8.8.8", 1), trusted=parse_networks("*")
    )
    assert client[0] == "203.0.113.1"


def test_rfc7239_forwarded_header():
    client, scheme = apply(
        [(b"forwarded", b'for="[2001:db8::1]:4711";proto=https;by=10.0.0.1')], use_forwarded=True
    )
    assert client == ("2001:db8::1", 4711)
    assert scheme == "https"


def test_forwarded_parsing():
    assert parse_forwarded('for=192.0.2.60;proto=http;by=203.0.113.43, for="_hidden"') == [
        {"for": "192.0.2.60", "proto": "http", "by": "203.0.113.43"},
        {"for": "_hidden"},
    ]


def test_unknown_proto_is_ignored():
    _, scheme = apply([(b"x-forwarded-proto", b"gopher")])
    assert scheme == "http"


def test_bad_cidr_is_a_clear_error():
    with pytest.raises(ValueError, match="expected an IP address or CIDR"):
        parse_networks("10.0.0.0/33")


@pytest.mark.parametrize("enabled", [True, False])
def test_proxy_headers_end_to_end(pool, enabled):
    kwargs = (
        {
            "proxy_forwarded_address_header": "X-Forwarded-For",
            "proxy_forwarded_port_header": "X-Forwarded-Port",
            "proxy_forwarded_proto_header": "X-Forwarded-Proto",
        }
        if enabled
        else {}
    )
    server = pool.get(**kwargs)
    scope = httpx.get(
        f"http://{server[0]}:{server[1]}/scope",
        headers={"X-Forwarded-For": "203.0.113.50", "X-Forwarded-Proto": "https"},
    ).json()
    if enabled:
        assert scope["client"][0] == "203.0.113.50"
        assert scope["scheme"] == "https"
    else:
        assert scope["client"][0] == "127.0.0.1"
        assert scope["scheme"] == "http"


def test_untrusted_peer_end_to_end(pool):
    server = pool.get(
        proxy_forwarded_address_header="X-Forwarded-For", proxy_trusted_ips="10.9.9.9/32"
    )
    scope = httpx.get(
        f"http://{server[0]}:{server[1]}/scope", headers={"X-Forwarded-For": "203.0.113.50"}
    ).json()
    assert scope["client"][0] == "127.0.0.1"


def test_ipv4_mapped_peer_matches_ipv4_allow_list():
    client, _ = apply([(b"x-forwarded-for", b"203.0.113.8")], client=("::ffff:127.0.0.1", 5))
    assert client[0] == "203.0.113.8"
