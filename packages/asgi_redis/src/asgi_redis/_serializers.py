"""The channels_redis serializer family: format, then optional Fernet, then a random prefix.

``serialize(message)`` is ``prefix + encrypt(as_bytes(message))``:

* ``as_bytes`` / ``from_bytes`` are the format (msgpack, JSON, a registered one);
* with ``symmetric_encryption_keys`` the bytes are Fernet tokens: the first key
  encrypts, every key decrypts (rotation). A token older than ``expiry + 10``
  seconds is refused, as in channels_redis;
* ``random_prefix_length`` random bytes lead the result (channels_redis needed them
  to keep equal messages distinct in a sorted set); ``deserialize`` drops them.

No IO. ``cryptography`` is imported only when keys are configured.
"""

from __future__ import annotations

import abc
import base64
import hashlib
import json
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgpack  # type: ignore[import-untyped]
from asgiref.layers import (
    InvalidChannelLayerError,
    InvalidMessage,
    Serializer,
    get_serializer,
    validate_message,
)

from ._codec import Split
from .exceptions import MessageDecryptionError

__all__ = [
    "BaseMessageSerializer",
    "JSONSerializer",
    "MsgPackSerializer",
    "SerializerDoesNotExist",
    "SerializersRegistry",
    "Wrapped",
]

# The same tag as asgiref's JSON serializer: bytes values survive as tagged base64.
_BYTES_TAG = "__asgi_bytes__"


class SerializerDoesNotExist(InvalidChannelLayerError, KeyError):
    """No serializer is registered under the requested format name."""

    def __str__(self) -> str:  # KeyError would quote the whole text
        return str(self.args[0]) if self.args else ""


class _NotASerializer(InvalidChannelLayerError, AssertionError):
    """A class without ``serialize`` and ``deserialize`` was registered.

    An ``AssertionError`` too, because channels_redis asserted this."""


def _check_keys(keys: object) -> list[str | bytes]:
    if isinstance(keys, (str, bytes)) or not isinstance(keys, Sequence) or not keys:
        raise InvalidChannelLayerError(
            "symmetric_encryption_keys must be a non-empty list of keys "
            f"(the first encrypts, all decrypt), got {keys!r}"
        )
    for key in keys:
        if not isinstance(key, (str, bytes)) or not key:
            raise InvalidChannelLayerError(
                f"each symmetric_encryption_keys entry must be a non-empty str, got {key!r}"
            )
    return list(keys)


class BaseMessageSerializer(abc.ABC):
    """Base of the serializers a layer uses: subclasses give ``as_bytes``/``from_bytes``."""

    def __init__(
        self,
        symmetric_encryption_keys: Sequence[str | bytes] | None = None,
        random_prefix_length: int = 0,
        expiry: float | None = None,
    ) -> None:
        self.random_prefix_length = random_prefix_length
        self.expiry = expiry
        self.crypter: Any = None
        if symmetric_encryption_keys is not None:
            keys = _check_keys(symmetric_encryption_keys)
            from cryptography.fernet import MultiFernet

            self.crypter = MultiFernet([self.make_fernet(key) for key in keys])

    def make_fernet(self, key: str | bytes) -> Any:
        """Return a Fernet for *key*: any string, stretched to 32 bytes with SHA-256."""
        try:
            from cryptography.fernet import Fernet
        except ImportError as exc:
            raise InvalidChannelLayerError(
                "symmetric_encryption_keys needs the cryptography package: "
                "pip install 'asgi-redis[cryptography]'"
            ) from exc
        raw = key.encode("utf-8") if isinstance(key, str) else key
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw).digest()))

    @abc.abstractmethod
    def as_bytes(self, message: Any, *args: Any, **kwargs: Any) -> bytes:
        """The format: *message* to bytes (extra arguments go to the format's encoder)."""

    @abc.abstractmethod
    def from_bytes(self, data: bytes, *args: Any, **kwargs: Any) -> Any:
        """The format: bytes back to the message (extra arguments go to its decoder)."""

    def serialize(self, message: Any) -> bytes:
        """The bytes to store for *message*: ``as_bytes``, encrypted, then prefixed.

        With ``symmetric_encryption_keys`` the format's bytes become a Fernet token made with
        the first key; with ``random_prefix_length`` that many random bytes go in front (so
        equal messages never store equal bytes). ``deserialize`` undoes both. Errors of
        ``as_bytes`` (``InvalidMessage`` for values the format cannot carry) propagate.
        """
        data = self.as_bytes(message)
        if self.crypter is not None:
            data = self.crypter.encrypt(data)
        if self.random_prefix_length > 0:
            data = random.randbytes(self.random_prefix_length) + data
        return data

    def deserialize(self, data: bytes) -> Any:
        """Return the message in *data*; raise ``MessageDecryptionError`` for a bad token."""
        return self.from_bytes(self.unwrap(data))

    def split(self) -> Split | None:
        """``(unwrap, from_bytes)`` if they make up this serializer's ``deserialize``
        (``None`` when a subclass overrides ``deserialize`` itself)."""
        if type(self).deserialize is not BaseMessageSerializer.deserialize:
            return None
        return self.unwrap, self.decoder()

    def decoder(self) -> Callable[[bytes], Any]:
        """``from_bytes`` without extra arguments, as directly as the format allows."""
        return self.from_bytes

    def unwrap(self, data: bytes) -> bytes:
        """The format's bytes in *data*: the random prefix dropped, the token decrypted.

        ``deserialize`` is ``from_bytes(unwrap(data))``; a group fan-out unwraps once and
        calls ``from_bytes`` once per receiver (each gets its own message).
        """
        if self.random_prefix_length > 0:
            data = data[self.random_prefix_length :]
        if self.crypter is not None:
            from cryptography.fernet import InvalidToken

            ttl = None if self.expiry is None else int(self.expiry + 10)
            try:
                data = self.crypter.decrypt(data, ttl)
            except InvalidToken:
                raise MessageDecryptionError(
                    f"could not be decrypted with any of the {len(self.crypter._fernets)} "
                    "configured symmetric_encryption_keys (encrypted with another key, not "
                    f"encrypted at all, or older than {ttl} seconds)"
                ) from None
        return data


def _explain(message: Any, error: Exception) -> InvalidMessage:
    """The error for an unserializable message, naming the failing key when it can."""
    try:
        validate_message(message)
    except InvalidMessage as precise:
        return precise
    return InvalidMessage(f"Message could not be serialized: {error}")


def _json_default(value: object) -> object:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {_BYTES_TAG: base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class JSONSerializer(BaseMessageSerializer):
    """UTF-8 JSON as channels_redis writes it; bytes values travel as tagged base64
    (asgiref's JSON serializer reads it, tags included).

    Extra arguments go to ``json.dumps``/``json.loads``, as in channels_redis, so a
    subclass can call ``super().as_bytes(message, cls=DjangoJSONEncoder)``; an encoder
    given that way (``cls`` or ``default``) replaces the bytes tagging.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: Serializer = get_serializer("json")

    def as_bytes(self, message: Any, *args: Any, **kwargs: Any) -> bytes:
        if "cls" not in kwargs:
            kwargs.setdefault("default", _json_default)
        try:
            return json.dumps(message, *args, **kwargs).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise _explain(message, exc) from exc

    def from_bytes(self, data: bytes, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return json.loads(data, *args, **kwargs)
        return self._plain.deserialize(data)


class MsgPackSerializer(BaseMessageSerializer):
    """msgpack with bytes and str kept apart (the default format).

    Extra arguments go to ``msgpack.packb``/``msgpack.unpackb`` (``default=``,
    ``ext_hook=``...), as in channels_redis."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: Serializer = get_serializer("msgpack")

    def as_bytes(self, message: Any, *args: Any, **kwargs: Any) -> bytes:
        if args or kwargs:
            try:
                data: bytes = msgpack.packb(message, *args, **kwargs)
            except (TypeError, ValueError, OverflowError) as exc:
                raise _explain(message, exc) from exc
            return data
        return self._plain.serialize(message)

    def from_bytes(self, data: bytes, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return msgpack.unpackb(data, *args, **kwargs)
        return self._plain.deserialize(data)

    def decoder(self) -> Callable[[bytes], Any]:
        if type(self).from_bytes is MsgPackSerializer.from_bytes:
            return self._plain.deserialize  # what from_bytes(data) calls
        return self.from_bytes


class Wrapped(BaseMessageSerializer):
    """Any object with ``serialize``/``deserialize`` used as the format."""

    def __init__(self, inner: Serializer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inner = inner

    def as_bytes(self, message: Any, *args: Any, **kwargs: Any) -> bytes:
        return self.inner.serialize(message)

    def from_bytes(self, data: bytes, *args: Any, **kwargs: Any) -> Any:
        return self.inner.deserialize(data)


class SerializersRegistry:
    """Format name -> serializer class, like channels_redis' registry."""

    def __init__(self) -> None:
        self._registry: dict[str, type[Any]] = {}

    def register_serializer(self, format: str, serializer_class: type[Any]) -> None:
        """Register *serializer_class*: a ``BaseMessageSerializer`` subclass, or any class
        with ``serialize`` and ``deserialize`` methods (built without arguments)."""
        if not (
            isinstance(serializer_class, type)
            and hasattr(serializer_class, "serialize")
            and hasattr(serializer_class, "deserialize")
        ):
            raise _NotASerializer(
                f"serializer_class must be a class with serialize and deserialize methods "
                f"(or a BaseMessageSerializer subclass), got {serializer_class!r}"
            )
        self._registry[format] = serializer_class

    def get_serializer(self, format: str, *args: Any, **kwargs: Any) -> Any:
        """Build the serializer registered as *format* with the given arguments."""
        return self.factory(format)(*args, **kwargs)

    def factory(self, format: str) -> type[Any]:
        """The class registered as *format* (``SerializerDoesNotExist`` if none)."""
        try:
            return self._registry[format]
        except KeyError:
            raise SerializerDoesNotExist(
                f"Unknown serializer_format {format!r}; registered: {', '.join(sorted(self))}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry)

    def __contains__(self, format: object) -> bool:
        return format in self._registry
