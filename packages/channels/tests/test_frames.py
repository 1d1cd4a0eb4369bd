"""The pure frame builders and protocol states."""

from __future__ import annotations

import pytest
from channels._frames import (
    HttpResponseState,
    WebsocketState,
    handler_name,
    http_body,
    http_start,
    normalize_headers,
    websocket_accept,
    websocket_close,
    websocket_payload,
    websocket_send,
)
from hypothesis import given
from hypothesis import strategies as st

TYPE_CHARS = st.characters(min_codepoint=33, max_codepoint=126)


@given(st.text(TYPE_CHARS, min_size=1).filter(lambda t: not t.startswith(("_", "."))))
def test_handler_name_replaces_dots(message_type: str) -> None:
    assert handler_name({"type": message_type}) == message_type.replace(".", "_")


@given(st.sampled_from("_."), st.text(TYPE_CHARS))
def test_leading_underscore_or_dot_never_reaches_a_handler(first: str, rest: str) -> None:
    with pytest.raises(ValueError, match=r"^Malformed type in message \(leading underscore\)"):
        handler_name({"type": first + rest})


latin1 = st.text(st.characters(max_codepoint=255))


@given(st.lists(st.tuples(latin1, latin1)))
def test_normalize_headers_keeps_names_and_values_as_given(pairs: list[tuple[str, str]]) -> None:
    result = normalize_headers(pairs)
    assert result == [(n.encode("latin-1"), v.encode("latin-1")) for n, v in pairs]


def test_normalize_headers_forms_and_errors() -> None:
    assert normalize_headers({"X-A": b"1"}) == [(b"X-A", b"1")]
    assert normalize_headers(None) == []
    with pytest.raises(TypeError, match="Header value must be str or bytes, got int"):
        normalize_headers([("a", 1)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"\(name, value\) pair, got 'abc'"):
        normalize_headers(["abc"])  # type: ignore[list-item]


def test_websocket_frames() -> None:
    assert websocket_accept() == {"type": "websocket.accept", "subprotocol": None}
    assert websocket_accept("v1", [("A", "b")]) == {
        "type": "websocket.accept",
        "subprotocol": "v1",
        "headers": [(b"A", b"b")],
    }
    assert websocket_close() == {"type": "websocket.close"}
    assert websocket_close(True) == {"type": "websocket.close", "code": 1000}
    assert websocket_close(4000, "bye") == {
        "type": "websocket.close",
        "code": 4000,
        "reason": "bye",
    }
    with pytest.raises(TypeError, match="Close code must be an int, got str"):
        websocket_close("1000")  # type: ignore[arg-type]
    assert websocket_send(text_data="") == {"type": "websocket.send", "text": ""}
    assert websocket_send(bytes_data=bytearray(b"x")) == {"type": "websocket.send", "bytes": b"x"}
    with pytest.raises(ValueError, match="not both"):
        websocket_send("a", b"b")
    with pytest.raises(ValueError, match="one of text_data or bytes_data"):
        websocket_send()
    assert websocket_payload({"text": "t", "bytes": None}) == ("t", None)
    assert websocket_payload({"bytes": b"b"}) == (None, b"b")


def test_http_frames_and_states() -> None:
    assert http_start(204, {"A": "b"}) == {
        "type": "http.response.start",
        "status": 204,
        "headers": [(b"A", b"b")],
    }
    with pytest.raises(TypeError, match="status must be an int, got str"):
        http_start("200")  # type: ignore[arg-type]
    assert http_body(b"x", True) == {"type": "http.response.body", "body": b"x", "more_body": True}
    state = HttpResponseState.PENDING.after_headers()
    assert state.after_body(True) is HttpResponseState.STARTED
    assert state.after_body(False) is HttpResponseState.COMPLETE
    with pytest.raises(RuntimeError, match="already started"):
        state.after_headers()


def test_websocket_state_errors_name_both_states() -> None:
    with pytest.raises(RuntimeError, match="must be connecting or connected, but it is closed"):
        WebsocketState.CLOSED.require(
            WebsocketState.CONNECTING, WebsocketState.CONNECTED, action="act"
        )
