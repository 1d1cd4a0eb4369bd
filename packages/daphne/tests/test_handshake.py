"""WebSocket handshake validation as a pure function."""

from __future__ import annotations

import pytest
from daphne._handshake import HandshakeError, accepted_fields, check_handshake

GOOD = [
    (b"Host", b"x"),
    (b"Upgrade", b"websocket"),
    (b"Connection", b"keep-alive, Upgrade"),
    (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    (b"Sec-WebSocket-Version", b"13"),
    (b"Sec-WebSocket-Protocol", b"chat, superchat"),
]


def test_valid_handshake_returns_subprotocols():
    assert check_handshake(b"GET", "1.1", GOOD) == ["chat", "superchat"]


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"method": b"POST"}, 400, "expected GET"),
        ({"version": "1.0"}, 400, "HTTP/1.1"),
        ({"drop": b"Host"}, 400, "Host"),
        ({"drop": b"Connection"}, 400, "Connection: Upgrade"),
        ({"set": (b"Sec-WebSocket-Version", b"8")}, 426, "Version 13"),
        ({"set": (b"Sec-WebSocket-Key", b"abc")}, 400, "16 bytes"),
        ({"drop": b"Sec-WebSocket-Key"}, 400, "one Sec-WebSocket-Key"),
    ],
)
def test_invalid_handshakes(change, status, words):
    headers = [h for h in GOOD if h[0] != change.get("drop")]
    if "set" in change:
        headers = [h for h in headers if h[0] != change["set"][0]] + [change["set"]]
    with pytest.raises(HandshakeError) as info:
        check_handshake(change.get("method", b"GET"), change.get("version", "1.1"), headers)
    assert info.value.status == status
    assert words in str(info.value)


def test_accepted_fields_join_several_extension_headers():
    headers = [
        (b"Sec-WebSocket-Key", b" dGhlIHNhbXBsZSBub25jZQ== "),
        (b"Sec-WebSocket-Extensions", b"permessage-deflate"),
        (b"sec-websocket-extensions", b"x-webkit-deflate-frame"),
    ]
    assert accepted_fields(headers) == (
        "dGhlIHNhbXBsZSBub25jZQ==",
        "permessage-deflate, x-webkit-deflate-frame",
    )
    assert accepted_fields(headers[:1]) == ("dGhlIHNhbXBsZSBub25jZQ==", None)
