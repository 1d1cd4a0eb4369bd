"""Stored items: framing, and decoding with error wording that names the channel (no IO).

Encoding is asgiref's ``SerializingChannelLayer.encode_message``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.layers import InvalidMessage

from .exceptions import MessageDecryptionError

__all__ = ["Envelope", "decode", "frame", "unframe"]

_DEADLINE_DIGITS = 13

# (deadline in epoch milliseconds, destination channel names, payload)
Envelope = tuple[int, list[str], bytes]


def frame(deadline_ms: int, channels: str, payload: bytes) -> bytes:
    """Build a stored item; *channels* is one name or several joined by ``,``."""
    return b"%013d%s\x00%s" % (deadline_ms, channels.encode("ascii"), payload)


def unframe(item: bytes) -> Envelope:
    """Split a stored item; raise ``ValueError`` naming the problem if it is not one."""
    separator = item.find(b"\x00", _DEADLINE_DIGITS)
    if separator < 0 or not item[:_DEADLINE_DIGITS].isdigit():
        raise ValueError(f"not an asgi_redis item (starts with {item[:40]!r})")
    channels = item[_DEADLINE_DIGITS:separator].decode("ascii").split(",")
    return int(item[:_DEADLINE_DIGITS]), channels, item[separator + 1 :]


def decode(deserialize: Callable[[bytes], Any], payload: bytes, channel: str) -> dict[str, Any]:
    """Return the message in *payload*, received on *channel*; errors name the channel."""
    try:
        message = deserialize(payload)
    except MessageDecryptionError as exc:
        raise MessageDecryptionError(
            f"A message on channel {channel!r} {exc}; it was dropped"
        ) from None
    except Exception as exc:
        raise InvalidMessage(
            f"A message on channel {channel!r} could not be deserialized: {exc!r}; it was dropped"
        ) from exc
    if not isinstance(message, dict):
        raise InvalidMessage(
            f"A message on channel {channel!r} deserialized to a "
            f"{type(message).__name__}, expected a dict; it was dropped"
        )
    return message
