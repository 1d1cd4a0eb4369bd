"""Stored items: framing, and decoding with error wording that names the channel (no IO).

Encoding is asgiref's ``SerializingChannelLayer.encode_message``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.layers import InvalidMessage

from .exceptions import MessageDecryptionError

__all__ = ["Envelope", "Shared", "Split", "decode", "frame", "unframe"]

_DEADLINE_DIGITS = 13

# (deadline in epoch milliseconds, destination channel names, payload)
Envelope = tuple[int, list[str], bytes]

#: A serializer's ``deserialize`` in two steps: ``unwrap`` (drop the random prefix,
#: decrypt) to the format's bytes, then ``from_bytes`` to the message.
Split = tuple[Callable[[bytes], bytes], Callable[[bytes], Any]]


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


class Shared:
    """One payload read once for several channels of this process (a group fan-out).

    The first receiver to open it unwraps it once (the costly part when messages are
    encrypted); every receiver then decodes the format's bytes into a message of its
    own, so no two members ever share a dict, as if each had read its own copy.
    *split* is ``None`` when the layer's ``deserialize`` is not its serializer's own (a
    subclass overrides it): then each receiver calls *deserialize*, as for one channel.
    """

    __slots__ = ("_deserialize", "_opened", "_split", "payload")

    def __init__(
        self, payload: bytes, split: Split | None, deserialize: Callable[[bytes], Any]
    ) -> None:
        #: The payload as stored in Redis (what goes back if it is ever given back).
        self.payload = payload
        self._split = split
        self._deserialize = deserialize
        # (format bytes, from_bytes) once the first receiver decoded them into a dict:
        # one attribute, so another thread opening the same payload sees both or neither.
        self._opened: tuple[bytes, Callable[[bytes], Any]] | None = None

    def open(self, channel: str) -> dict[str, Any]:
        """The message for a receiver on *channel*: a new dict for every call."""
        opened = self._opened
        if opened is not None:
            message: dict[str, Any] = opened[1](opened[0])  # known to decode to a dict
            return message
        if self._split is None:
            return decode(self._deserialize, self.payload, channel)
        unwrap, from_bytes = self._split
        try:
            inner = unwrap(self.payload)
        except Exception:
            # Undecryptable: the whole path raises the error naming the channel.
            return decode(self._deserialize, self.payload, channel)
        message = decode(from_bytes, inner, channel)
        self._opened = (inner, from_bytes)
        return message
