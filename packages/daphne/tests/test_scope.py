"""Scope building as a pure function, including Hypothesis-driven round trips."""

from __future__ import annotations

from urllib.parse import quote, unquote_to_bytes

import pytest
from daphne._proxy import ProxyConfig
from daphne._scope import (
    RequestTargetError,
    build_http_scope,
    build_websocket_scope,
    decode_path,
    split_target,
)
from hypothesis import given
from hypothesis import strategies as st

path_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="?#"), max_size=40
)
segments = st.lists(path_text, min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts))
query = st.binary(max_size=60).map(lambda b: quote(b, safe="=&").encode("ascii"))
header_name = st.from_regex(r"\A[a-zA-Z0-9!#$%&'*+.^`|~-]{1,20}\Z")
header_value = st.binary(max_size=40).map(lambda b: bytes(c for c in b if c >= 0x20 and c != 0x7F))
addresses = st.tuples(st.ip_addresses().map(str), st.integers(0, 65535))


@given(
    path=segments,
    query=query,
    headers=st.lists(st.tuples(header_name, header_value), max_size=8),
    client=addresses,
    server=addresses,
    root=st.one_of(st.just(""), segments),
)
def test_scope_round_trip(path, query, headers, client, server, root):
    raw_path = quote(path, safe="/").encode("ascii")
    target = raw_path + (b"?" + query if query else b"")
    raw_headers = [(name.encode("ascii"), value) for name, value in headers]
    scope = build_http_scope(
        method="get",
        target=target,
        http_version="1.1",
        headers=raw_headers,
        client=client,
        server=server,
        root_path=root,
    )
    assert scope["type"] == "http"
    assert scope["method"] == "GET"
    assert scope["path"] == path
    assert scope["raw_path"] == raw_path
    assert scope["query_string"] == query
    assert scope["root_path"] == root
    # Fresh [host, port] lists, as upstream Daphne gives them.
    assert scope["client"] == list(client)
    assert scope["server"] == list(server)
    kept = [(n.lower().encode(), v) for n, v in headers if "_" not in n]
    if any(n == b"daphne-root-path" for n, _ in kept):
        return  # the header overrides root_path; covered below
    assert scope["headers"] == kept
    assert all(name == name.lower() for name, _ in scope["headers"])


@given(target=st.binary(min_size=1, max_size=50))
def test_arbitrary_targets_either_parse_or_raise_target_error(target):
    try:
        path, _query = split_target(target)
    except RequestTargetError as exc:
        assert "request target" in str(exc)
    else:
        assert b"?" not in path


def test_invalid_utf8_in_path_is_replaced_but_raw_path_keeps_bytes():
    scope = build_http_scope(
        method="GET", target=b"/a%FFb", http_version="1.1", headers=[], client=None, server=None
    )
    assert scope["path"] == "/a\ufffdb"
    assert scope["raw_path"] == b"/a%FFb"


def test_absolute_form_and_asterisk():
    assert split_target(b"http://h:8/p/q?x=1") == (b"/p/q", b"x=1")
    assert split_target(b"https://h?x") == (b"/", b"x")
    assert split_target(b"*") == (b"*", b"")
    with pytest.raises(RequestTargetError):
        split_target(b"relative/path")


def test_state_is_a_shallow_copy_per_request():
    state = {"db": object()}
    one = build_http_scope(
        method="GET",
        target=b"/",
        http_version="1.1",
        headers=[],
        client=None,
        server=None,
        state=state,
    )
    one["state"]["extra"] = 1
    assert "extra" not in state
    assert one["state"]["db"] is state["db"]


def test_websocket_scope():
    scope = build_websocket_scope(
        target=b"/chat?room=1",
        http_version="1.1",
        headers=[(b"Host", b"x")],
        client=("1.2.3.4", 5),
        server=("127.0.0.1", 80),
        subprotocols=["a"],
        secure=True,
    )
    assert scope["type"] == "websocket"
    assert scope["scheme"] == "wss"
    assert "method" not in scope
    assert scope["subprotocols"] == ["a"]
    # Daphne 4's key set exactly: no extensions, no http_version for HTTP/1.1 (the default).
    assert set(scope) == {
        "type", "asgi", "scheme", "path", "raw_path", "root_path", "query_string",
        "headers", "client", "server", "subprotocols",
    }  # fmt: skip


def test_websocket_scope_names_an_http_version_other_than_the_default():
    scope = build_websocket_scope(
        target=b"/", http_version="2", headers=[], client=None, server=None, subprotocols=[]
    )
    assert scope["http_version"] == "2"


def test_proxy_config_applies_inside_scope():
    scope = build_http_scope(
        method="GET",
        target=b"/",
        http_version="1.1",
        headers=[(b"X-Forwarded-For", b"10.0.0.9"), (b"X-Forwarded-Proto", b"https")],
        client=("127.0.0.1", 5000),
        server=None,
        proxy=ProxyConfig(),
    )
    # Without a forwarded port the client's port is unknown (5000 is the proxy's): 0.
    assert scope["client"] == ["10.0.0.9", 0]
    assert scope["scheme"] == "https"


@given(raw=st.binary(max_size=40))
def test_decode_path_matches_percent_decoding_then_utf8(raw):
    assert decode_path(raw) == unquote_to_bytes(raw).decode("utf-8", "replace")


def test_root_path_header_first_value_wins_and_underscore_names_are_dropped():
    scope = build_http_scope(
        method="GET",
        target=b"/x",
        http_version="1.1",
        headers=[
            (b"Daphne-Root-Path", b"/a%20b"),
            (b"daphne-root-path", b"/other"),
            (b"X_Forwarded_For", b"1.2.3.4"),
        ],
        client=None,
        server=None,
        root_path="/configured",
    )
    assert scope["root_path"] == "/a b"
    assert scope["headers"] == [(b"daphne-root-path", b"/a%20b"), (b"daphne-root-path", b"/other")]
