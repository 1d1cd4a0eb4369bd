"""Message <-> stored item: serializer, optional Fernet encryption, framing (no IO)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

from asgiref.layers import (
    InvalidChannelLayerError,
    InvalidMessage,
    Serializer,
    get_serializer,
    validate_message,
)

from .exceptions import MessageDecryptionError

__all__ = ["Codec", "Envelope", "frame", "unframe"]

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


def _fernet_key(key: str | bytes) -> bytes:
    # Any string is accepted as a key: it is stretched to the 32 bytes Fernet needs.
    raw = key.encode("utf-8") if isinstance(key, str) else key
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


class Codec:
    """Serializes (and, with keys, encrypts) messages; the inverse on receive."""

    def __init__(
        self,
        serializer: str | Serializer | None = None,
        symmetric_encryption_keys: Sequence[str | bytes] | None = None,
    ) -> None:
        if serializer == "django":
            from ._rich import DjangoMsgPackSerializer

            serializer = DjangoMsgPackSerializer()
        self.serializer = get_serializer(serializer)
        self._serialize = self.serializer.serialize
        self._deserialize = self.serializer.deserialize
        self._fernet: Any = None
        if symmetric_encryption_keys is not None:
            self._fernet = self._make_fernet(symmetric_encryption_keys)

    @staticmethod
    def _make_fernet(keys: Sequence[str | bytes]) -> Any:
        if isinstance(keys, (str, bytes)) or not keys:
            raise InvalidChannelLayerError(
                "symmetric_encryption_keys must be a non-empty list of keys "
                f"(the first encrypts, all decrypt), got {keys!r}"
            )
        for key in keys:
            if not isinstance(key, (str, bytes)) or not key:
                raise InvalidChannelLayerError(
                    f"each symmetric_encryption_keys entry must be a non-empty str, got {key!r}"
                )
        try:
            from cryptography.fernet import Fernet, MultiFernet
        except ImportError as exc:
            raise InvalidChannelLayerError(
                "symmetric_encryption_keys needs the cryptography package: "
                "pip install 'asgi-redis[cryptography]'"
            ) from exc
        return MultiFernet([Fernet(_fernet_key(key)) for key in keys])

    @property
    def encrypted(self) -> bool:
        return self._fernet is not None

    def encode(self, message: dict[str, Any]) -> bytes:
        """Return the payload for *message*; bad messages raise ``InvalidMessage``."""
        validate_message(message, check_values=False)
        data = self._serialize(message)
        if self._fernet is not None:
            data = self._fernet.encrypt(data)
        return data

    def decode(self, payload: bytes, channel: str) -> dict[str, Any]:
        """Return the message in *payload*, received on *channel*."""
        if self._fernet is not None:
            from cryptography.fernet import InvalidToken

            try:
                payload = self._fernet.decrypt(payload)
            except InvalidToken:
                raise MessageDecryptionError(
                    f"A message on channel {channel!r} could not be decrypted with any of the "
                    f"{len(self._fernet._fernets)} configured symmetric_encryption_keys; it was "
                    "dropped. It was encrypted with another key (or not encrypted at all)."
                ) from None
        try:
            message = self._deserialize(payload)
        except Exception as exc:
            raise InvalidMessage(
                f"A message on channel {channel!r} could not be deserialized by "
                f"{type(self.serializer).__name__}: {exc}; it was dropped"
            ) from exc
        if not isinstance(message, dict):
            raise InvalidMessage(
                f"A message on channel {channel!r} deserialized to a "
                f"{type(message).__name__}, expected a dict; it was dropped"
            )
        return message
