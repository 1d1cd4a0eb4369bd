"""The pure rules behind the hostile-client fixes, without a server."""

from __future__ import annotations

import pytest
from daphne._handshake import HandshakeError, check_handshake
from daphne._parser import ParseError, feed, make_parser
from daphne._proxy import ProxyConfig, apply_proxy_headers, client_address, client_port
from daphne._request import (
    MAX_METHOD_LENGTH,
    MAX_TRAILER_SIZE,
    InputBudget,
    Reject,
    header_tokens,
    host_problem,
    split_tokens,
)


def test_token_lists_are_split_trimmed_and_lower_cased():
    assert split_tokens(b" Keep-Alive ,\tUPGRADE,, ") == [b"keep-alive", b"upgrade"]
    headers = [(b"Upgrade", b"h2c"), (b"upgrade", b"WebSocket, foo"), (b"Upgrader", b"x")]
    assert header_tokens(headers, b"upgrade") == [b"h2c", b"websocket", b"foo"]


@pytest.mark.parametrize(
    ("version", "hosts", "ok"),
    [("1.1", 1, True), ("1.1", 0, False), ("1.1", 2, False), ("1.0", 0, True), ("1.0", 2, False)],
)
def test_host_rule(version, hosts, ok):
    headers = [(b"HOST", b"a")] * hosts + [(b"hostx", b"b")]
    assert (host_problem(version, headers) is None) is ok


@pytest.mark.parametrize(("hosts", "ok"), [(0, True), (1, True), (2, False)])
def test_without_require_host_only_a_missing_host_is_let_through(hosts, ok):
    headers = [(b"Host", b"a")] * hosts
    assert (host_problem("1.1", headers, require_host=False) is None) is ok


def test_handshake_needs_the_websocket_token():
    headers = [
        (b"Host", b"x"),
        (b"Connection", b"Upgrade"),
        (b"Upgrade", b"websocketx"),
        (b"Sec-WebSocket-Version", b"13"),
        (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    ]
    with pytest.raises(HandshakeError, match="Upgrade: websocket"):
        check_handshake(b"GET", "1.1", headers)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("65535", 65535), ("65536", None), ("-1", None), ("\u00b2", None), ("", None)],
)
def test_ports(value, expected):
    assert client_port(value) == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("203.0.113.1", True),
        ("2001:db8::1", True),
        ("unknown", False),
        ("_hidden", False),
        ("fe80::1%eth0", False),
        ("1.2.3.256", False),
        ("<b>", False),
    ],
)
def test_addresses(value, ok):
    assert (client_address(value) == value) is ok


def test_forwarded_is_ignored_unless_enabled():
    headers = [(b"forwarded", b"for=6.6.6.6"), (b"x-forwarded-for", b"203.0.113.2")]
    peer = ("127.0.0.1", 1)
    assert apply_proxy_headers(ProxyConfig(), headers, peer, "http")[0] == ("203.0.113.2", 0)
    enabled = ProxyConfig(use_forwarded=True)
    assert apply_proxy_headers(enabled, headers, peer, "http")[0] == ("6.6.6.6", 0)


def test_an_unusable_right_most_entry_stops_the_walk():
    headers = [(b"x-forwarded-for", b"203.0.113.3, unknown")]
    assert apply_proxy_headers(ProxyConfig(), headers, ("127.0.0.1", 1), "http")[0] == (
        "127.0.0.1",
        1,
    )


def test_budget_counts_feeds_that_produce_nothing():
    budget = InputBudget()
    budget.head_complete()
    budget.progress = False
    budget.body_fed(MAX_TRAILER_SIZE)
    with pytest.raises(Reject) as info:
        budget.body_fed(1)
    assert info.value.status == 431
    budget.progress = True
    budget.body_fed(10)  # body data starts the count again
    assert budget.idle == 0


def test_budget_counts_trailer_fields_exactly():
    budget = InputBudget()
    budget.trailer_field(MAX_TRAILER_SIZE)
    with pytest.raises(Reject):
        budget.trailer_field(1)


class _Recorder:
    def __getattr__(self, name):
        return lambda *args: None


def test_python_parser_bounds_methods_and_trailers():
    parser = make_parser(_Recorder(), use_httptools=False)
    with pytest.raises(ParseError) as method:
        feed(parser, b"M" * (MAX_METHOD_LENGTH + 1) + b" / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert method.value.status == 501
    parser = make_parser(_Recorder(), use_httptools=False)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
    fields = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 100) for i in range(100))
    with pytest.raises(ParseError) as trailer:
        feed(parser, head + fields)
    assert trailer.value.status == 431


def test_request_head_rules():
    from daphne._request import Reject, check_length_and_expect, is_websocket_upgrade, keep_alive

    assert keep_alive("1.1", []) is True
    assert keep_alive("1.1", [(b"connection", b"Keep-Alive, Close")]) is False
    assert keep_alive("1.0", []) is False
    assert keep_alive("1.0", [(b"connection", b"keep-alive")]) is True
    assert is_websocket_upgrade([(b"Upgrade", b"WebSocket")]) is True
    assert is_websocket_upgrade([(b"upgrade", b"h2c")]) is False
    assert check_length_and_expect([(b"expect", b"100-Continue")], None) is True
    assert check_length_and_expect([(b"content-length", b"10")], 10) is False
    with pytest.raises(Reject) as too_big:
        check_length_and_expect([(b"content-length", b"11")], 10)
    assert too_big.value.status == 413
    with pytest.raises(Reject) as unknown:
        check_length_and_expect([(b"expect", b"something")], None)
    assert unknown.value.status == 417
