"""msgpack with extension types for datetimes, decimals and UUIDs (no IO, no Django import)."""

from __future__ import annotations

import datetime
import decimal
import sys
import uuid
from collections.abc import Callable
from typing import Any

import msgpack  # type: ignore[import-untyped]
from asgiref.layers import InvalidMessage

from ._serializers import BaseMessageSerializer

__all__ = ["DjangoMsgPackSerializer"]

# Extension type codes are part of the wire format: never renumber them.
_ENCODERS: list[tuple[type, int, Callable[[Any], bytes]]] = [
    (datetime.datetime, 1, lambda v: v.isoformat().encode()),
    (datetime.date, 2, lambda v: v.isoformat().encode()),
    (datetime.time, 3, lambda v: v.isoformat().encode()),
    (datetime.timedelta, 4, lambda v: b"%d" % (v // datetime.timedelta(microseconds=1))),
    (decimal.Decimal, 5, lambda v: str(v).encode()),
    (uuid.UUID, 6, lambda v: v.bytes),
]
_DECODERS: dict[int, Callable[[bytes], Any]] = {
    1: lambda data: datetime.datetime.fromisoformat(data.decode()),
    2: lambda data: datetime.date.fromisoformat(data.decode()),
    3: lambda data: datetime.time.fromisoformat(data.decode()),
    4: lambda data: datetime.timedelta(microseconds=int(data)),
    5: lambda data: decimal.Decimal(data.decode()),
    6: lambda data: uuid.UUID(bytes=data),
}


def _default(value: Any) -> Any:
    # datetime before date: a datetime is also a date.
    for kind, code, encode in _ENCODERS:
        if isinstance(value, kind):
            return msgpack.ExtType(code, encode(value))
    functional = sys.modules.get("django.utils.functional")
    if functional is not None and isinstance(value, functional.Promise):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not serializable")


def _ext_hook(code: int, data: bytes) -> Any:
    decoder = _DECODERS.get(code)
    if decoder is None:
        raise InvalidMessage(f"Unknown msgpack extension type {code} in a message")
    return decoder(data)


_PLAIN = (str, bytes, int, float, bool, type(None))


def _find_bad(value: Any, path: str) -> str | None:
    """Return the path of the first value neither msgpack nor the encoders can carry."""
    if isinstance(value, _PLAIN) or any(isinstance(value, kind) for kind, _, _ in _ENCODERS):
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _find_bad(item, f"{path}[{index}]")
            if found:
                return found
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _find_bad(item, f"{path}[{key!r}]")
            if found:
                return found
        return None
    functional = sys.modules.get("django.utils.functional")
    if functional is not None and isinstance(value, functional.Promise):
        return None
    return f"{path} is a {type(value).__name__}"


class DjangoMsgPackSerializer(BaseMessageSerializer):
    """msgpack plus datetime/date/time/timedelta/Decimal/UUID and lazy strings."""

    def as_bytes(self, message: Any, *args: Any, **kwargs: Any) -> bytes:
        try:
            data: bytes = msgpack.packb(message, use_bin_type=True, default=_default)
        except (TypeError, ValueError, OverflowError) as exc:
            where = _find_bad(message, "message") or "a value"
            raise InvalidMessage(
                f"Message could not be serialized: {where}, which the django serializer "
                "cannot carry (it handles msgpack types plus datetime, date, time, "
                f"timedelta, Decimal, UUID and lazy strings): {exc}"
            ) from exc
        return data

    def from_bytes(self, data: bytes, *args: Any, **kwargs: Any) -> Any:
        result: dict[str, Any] = msgpack.unpackb(
            data, raw=False, strict_map_key=False, ext_hook=_ext_hook
        )
        return result
