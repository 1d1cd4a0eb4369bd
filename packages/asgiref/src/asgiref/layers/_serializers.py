"""Message serializers and their registry.

A serializer turns a message dict into bytes and back. ``msgpack`` (the
default of the bundled network layers, needs the ``msgpack`` package) and
``json`` (standard library; bytes travel base64-encoded) are registered;
applications add their own with :func:`register_serializer`.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Protocol, runtime_checkable

from ._errors import InvalidChannelLayerError, InvalidMessage
from ._message import validate_message_values

__all__ = [
    "JSONSerializer",
    "MsgPackSerializer",
    "Serializer",
    "get_serializer",
    "register_serializer",
    "serializer_names",
]

_BYTES_TAG = "__asgi_bytes__"


@runtime_checkable
class Serializer(Protocol):
    """Turns messages into bytes and back."""

    def serialize(self, message: dict[str, Any]) -> bytes:
        """The bytes that stand for *message*; ``InvalidMessage`` if it cannot be encoded."""

    def deserialize(self, data: bytes) -> dict[str, Any]:
        """The message that ``serialize`` turned into *data*, equal to the one given."""


def _explain(message: dict[str, Any], error: Exception) -> InvalidMessage:
    # Re-walk the message to name the key that failed; fall back to the raw error.
    try:
        for key, value in message.items():
            validate_message_values(value, f"message[{key!r}]")
    except InvalidMessage as precise:
        return precise
    return InvalidMessage(f"Message could not be serialized: {error}")


class MsgPackSerializer:
    """msgpack, with bytes and str kept apart (``use_bin_type``)."""

    def __init__(self) -> None:
        try:
            import msgpack  # type: ignore[import-untyped]
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise InvalidChannelLayerError(
                "The 'msgpack' serializer needs the msgpack package: pip install msgpack"
            ) from exc
        self._packb = msgpack.packb
        self._unpackb = msgpack.unpackb

    def serialize(self, message: dict[str, Any]) -> bytes:
        """*message* as msgpack, ``bytes`` as bin and ``str`` as str.

        Raises ``InvalidMessage`` naming the key whose value msgpack cannot carry (an
        object, an integer beyond 64 bits...).
        """
        try:
            data: bytes = self._packb(message, use_bin_type=True)
        except (TypeError, ValueError, OverflowError) as exc:
            raise _explain(message, exc) from exc
        return data

    def deserialize(self, data: bytes) -> dict[str, Any]:
        """The message packed in *data*: strings as ``str``, binary as ``bytes``.

        Non-string map keys are allowed (``strict_map_key=False``); malformed data raises
        msgpack's own errors.
        """
        result: dict[str, Any] = self._unpackb(data, raw=False, strict_map_key=False)
        return result


def _json_default(value: object) -> object:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {_BYTES_TAG: base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_hook(obj: dict[str, Any]) -> object:
    if len(obj) == 1 and _BYTES_TAG in obj:
        return base64.b64decode(obj[_BYTES_TAG])
    return obj


class JSONSerializer:
    """Compact UTF-8 JSON; bytes values survive as tagged base64."""

    def serialize(self, message: dict[str, Any]) -> bytes:
        """*message* as compact UTF-8 JSON; each ``bytes`` value becomes tagged base64.

        Raises ``InvalidMessage`` naming the key whose value JSON cannot carry (an
        object, NaN or an infinity).
        """
        try:
            text = json.dumps(
                message, default=_json_default, separators=(",", ":"), allow_nan=False
            )
        except (TypeError, ValueError) as exc:
            raise _explain(message, exc) from exc
        return text.encode("utf-8")

    def deserialize(self, data: bytes) -> dict[str, Any]:
        """The message in the JSON *data*, with the tagged base64 values back as ``bytes``.

        Malformed JSON raises ``json.JSONDecodeError``.
        """
        result: dict[str, Any] = json.loads(data, object_hook=_json_hook)
        return result


_REGISTRY: dict[str, type[Any]] = {"msgpack": MsgPackSerializer, "json": JSONSerializer}


def register_serializer(name: str, factory: type[Any]) -> None:
    """Register *factory* (called with no arguments) under *name*."""
    if not isinstance(name, str) or not name:
        raise InvalidChannelLayerError(f"Serializer name must be a non-empty str, got {name!r}")
    _REGISTRY[name] = factory


def serializer_names() -> list[str]:
    """Return the registered serializer names."""
    return sorted(_REGISTRY)


def get_serializer(spec: str | Serializer | None = None) -> Serializer:
    """Return a serializer for *spec*: a registered name, an instance, or None (msgpack).

    A dotted path (``"myapp.serializers.Mine"``) is imported and instantiated.
    """
    if spec is None:
        spec = "msgpack"
    if not isinstance(spec, str):
        if isinstance(spec, Serializer):
            return spec
        raise InvalidChannelLayerError(
            f"serializer must be a name, a dotted path or an object with "
            f"serialize/deserialize, got {spec!r}"
        )
    factory = _REGISTRY.get(spec)
    if factory is None and "." in spec:
        from importlib import import_module

        module_name, _, attr = spec.rpartition(".")
        try:
            factory = getattr(import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise InvalidChannelLayerError(f"Cannot import serializer {spec!r}: {exc}") from exc
    if factory is None:
        raise InvalidChannelLayerError(
            f"Unknown serializer {spec!r}; registered: {', '.join(serializer_names())}"
        )
    instance = factory()
    if not isinstance(instance, Serializer):
        raise InvalidChannelLayerError(f"{spec!r} does not provide serialize/deserialize")
    return instance
