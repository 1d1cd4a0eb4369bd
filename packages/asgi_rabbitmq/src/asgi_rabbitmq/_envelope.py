"""Message framing on the wire. Pure: no IO.

Every AMQP body the layer publishes is ``kind (1 byte) | name length (1 byte) |
name (ASCII) | payload``. The name travels in the body rather than in AMQP
headers because one process queue carries all of a process's channels and
groups, and a two-byte prefix costs far less to build and parse than a header
table on every message.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

__all__ = ["Envelope", "Kind", "MalformedEnvelope", "decode", "encode"]


class Kind(enum.Enum):
    """What an envelope carries."""

    #: A message for one channel; name is the channel.
    DIRECT = b"c"
    #: A message for every local member of a group; name is the group.
    GROUP = b"g"
    #: Another process added one of our channels (name) to a group (payload).
    JOIN = b"a"
    #: Another process discarded one of our channels (name) from a group (payload).
    LEAVE = b"d"


_BY_BYTE = {kind.value[0]: kind for kind in Kind}


class Envelope(NamedTuple):
    kind: Kind
    name: str
    payload: bytes


class MalformedEnvelope(ValueError):
    """A body that this layer did not frame (another client wrote to our queue)."""


def encode(kind: Kind, name: str, payload: bytes) -> bytes:
    """Frame *payload* for *name*; names are validated ASCII shorter than 100 chars."""
    raw = name.encode("ascii")
    return kind.value + bytes((len(raw),)) + raw + payload


def decode(body: bytes) -> Envelope:
    """Split a body framed by :func:`encode`, or raise :class:`MalformedEnvelope`."""
    if len(body) < 2:
        raise MalformedEnvelope(f"expected at least 2 framing bytes, got {len(body)}")
    kind = _BY_BYTE.get(body[0])
    if kind is None:
        raise MalformedEnvelope(f"expected a kind byte in b'cgad', got {body[:1]!r}")
    end = 2 + body[1]
    if len(body) < end:
        raise MalformedEnvelope(f"name length {body[1]} exceeds the body of {len(body)} bytes")
    try:
        name = body[2:end].decode("ascii")
    except UnicodeDecodeError as exc:
        raise MalformedEnvelope(f"expected an ASCII name, got {body[2:end]!r}") from exc
    return Envelope(kind, name, body[end:])
