"""Serializers of the Redis layers, with channels_redis' names.

``serializer_format`` picks one from :data:`registry`: ``"msgpack"`` (default),
``"json"`` or ``"django"``; add your own with
``registry.register_serializer("name", MySerializer)``, where ``MySerializer``
subclasses :class:`BaseMessageSerializer` (``as_bytes``/``from_bytes``) or is any
class with ``serialize``/``deserialize``. The layer wraps the format with its
``symmetric_encryption_keys`` and ``random_prefix_length``.

``DjangoMsgPackSerializer`` (``serializer_format="django"``) carries the values
Django code puts in messages (#287): ``datetime``, ``date``, ``time``,
``timedelta``, ``Decimal`` and ``UUID`` round-trip as themselves, and lazy
translation strings are sent as ``str``. It does not import Django.
"""

from __future__ import annotations

from ._msgpack_types import DjangoMsgPackSerializer
from ._registry import registry
from ._serializers import (
    BaseMessageSerializer,
    JSONSerializer,
    MsgPackSerializer,
    SerializerDoesNotExist,
    SerializersRegistry,
)

__all__ = [
    "BaseMessageSerializer",
    "DjangoMsgPackSerializer",
    "JSONSerializer",
    "MsgPackSerializer",
    "SerializerDoesNotExist",
    "SerializersRegistry",
    "registry",
]
