"""The serializer registry of the Redis layers, and how a layer picks its serializer.

``json`` and ``msgpack`` (as in channels_redis) and ``django`` (``_msgpack_types``) are
registered; applications register more with ``registry.register_serializer``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asgiref.layers import InvalidChannelLayerError, Serializer, get_serializer

from ._msgpack_types import DjangoMsgPackSerializer
from ._serializers import (
    BaseMessageSerializer,
    JSONSerializer,
    MsgPackSerializer,
    SerializerDoesNotExist,
    SerializersRegistry,
    Wrapped,
)

__all__ = ["registry", "resolve_serializer"]

registry = SerializersRegistry()
registry.register_serializer("json", JSONSerializer)
registry.register_serializer("msgpack", MsgPackSerializer)
registry.register_serializer("django", DjangoMsgPackSerializer)


def resolve_serializer(
    spec: str | Serializer | None,
    symmetric_encryption_keys: Sequence[str | bytes] | None,
    random_prefix_length: int,
    expiry: float | None,
) -> BaseMessageSerializer:
    """The serializer a layer uses for ``serializer_format=spec``.

    A name in :data:`registry` is built with the layer's encryption keys, prefix
    length and expiry; a ``BaseMessageSerializer`` instance is used as it is.
    Anything else asgiref's ``get_serializer`` knows (a name registered there, a
    dotted path, an object with ``serialize``/``deserialize``), and a registered
    class that is not a ``BaseMessageSerializer``, becomes the *format* inside a
    ``BaseMessageSerializer``, so encryption applies to it too.
    """
    if isinstance(spec, BaseMessageSerializer):
        return spec
    options: dict[str, Any] = {
        "symmetric_encryption_keys": symmetric_encryption_keys,
        "random_prefix_length": random_prefix_length,
        "expiry": expiry,
    }
    name = "msgpack" if spec is None else spec
    if isinstance(name, str) and name in registry:
        factory = registry.factory(name)
        if issubclass(factory, BaseMessageSerializer):
            return factory(**options)
        return Wrapped(factory(), **options)
    try:
        inner = get_serializer(name)
    except InvalidChannelLayerError as exc:
        if isinstance(name, str):
            raise SerializerDoesNotExist(
                f"Unknown serializer_format {name!r}; registered: "
                f"{', '.join(sorted(registry))} ({exc})"
            ) from None
        raise
    return Wrapped(inner, **options)
