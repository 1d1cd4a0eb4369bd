"""Wire framing round-trips and refuses bodies it did not make."""

from __future__ import annotations

import pytest
from asgi_rabbitmq._envelope import Kind, MalformedEnvelope, decode, encode


@pytest.mark.parametrize("kind", list(Kind))
def test_round_trip(kind: Kind) -> None:
    body = encode(kind, "specific.abc!def", b"\x00payload\xff")
    assert decode(body) == (kind, "specific.abc!def", b"\x00payload\xff")


def test_empty_payload() -> None:
    assert decode(encode(Kind.GROUP, "g", b"")) == (Kind.GROUP, "g", b"")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "at least 2 framing bytes"),
        (b"z\x01a", "kind byte"),
        (b"c\x09abc", "name length 9 exceeds"),
        (b"c\x02\xff\xfe", "ASCII name"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(MalformedEnvelope, match=message):
        decode(body)
