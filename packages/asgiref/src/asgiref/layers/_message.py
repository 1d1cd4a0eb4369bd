"""Message rules: a message is a dict with str keys.

Values are checked against the set of types every bundled serializer can
carry (None, bool, int, float, str, bytes, list, tuple, dict with str keys).
Layers whose serializer handles more (for example datetimes) skip the value
check and let the serializer speak.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ._errors import InvalidMessage

__all__ = ["RESERVED_KEY_PREFIX", "validate_message", "validate_message_values"]

#: Keys starting with this are used by layers for bookkeeping.
RESERVED_KEY_PREFIX: Final = "__asgi_"

_SCALARS: Final = (str, bytes, int, float, bool, type(None))


def validate_message(message: object, *, check_values: bool = True) -> dict[str, Any]:
    """Return *message* if it is a valid message, else raise :class:`InvalidMessage`.

    The error names the offending key path, for example ``message['a'][2]``.
    """
    if type(message) is not dict and not isinstance(message, Mapping):
        raise InvalidMessage(f"A message must be a dict, got {type(message).__name__}")
    for key in message:
        if not isinstance(key, str):
            raise InvalidMessage(f"Message keys must be str, got {type(key).__name__} key {key!r}")
        if key.startswith(RESERVED_KEY_PREFIX):
            raise InvalidMessage(
                f"Message key {key!r} is reserved: keys starting with "
                f"{RESERVED_KEY_PREFIX!r} belong to the layer"
            )
    if check_values:
        for key, value in message.items():
            validate_message_values(value, f"message[{key!r}]")
    return message  # type: ignore[return-value]


def validate_message_values(value: object, path: str) -> None:
    """Raise :class:`InvalidMessage` naming *path* if *value* is not serializable."""
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            validate_message_values(item, f"{path}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidMessage(
                    f"{path} has a {type(key).__name__} key {key!r}; keys must be str"
                )
            validate_message_values(item, f"{path}[{key!r}]")
        return
    raise InvalidMessage(
        f"{path} is a {type(value).__name__}, which cannot be serialized; "
        "use None, bool, int, float, str, bytes, list, tuple or dict"
    )
