"""Copying messages so that a sender and its receivers never share mutable state.

``copy.deepcopy`` is what upstream used and is correct for any value, but it
is slow for the small dicts of str/bytes/int that make up nearly all ASGI
messages. :func:`copy_message` copies the builtin containers itself, shares
immutable scalars, and falls back to ``copy.deepcopy`` for anything else, so
every value upstream accepted is still accepted.
"""

from __future__ import annotations

import copy
from typing import Any, Final

__all__ = ["copy_message", "is_flat"]

# Instances of these types cannot change, so a copy may share them.
_IMMUTABLE: Final = frozenset({str, bytes, int, float, bool, complex, type(None)})


def _copy_value(value: Any) -> Any:
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {key: _copy_value(item) for key, item in value.items()}
    if kind is list:
        return [_copy_value(item) for item in value]
    if kind is tuple:
        return tuple([_copy_value(item) for item in value])
    return copy.deepcopy(value)


def copy_message(message: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of *message* that shares no mutable object with it."""
    try:
        return {
            key: value if type(value) in _IMMUTABLE else _copy_value(value)
            for key, value in message.items()
        }
    except RecursionError:
        # A self-referencing message: deepcopy keeps a memo of what it copied.
        return copy.deepcopy(message)


def is_flat(message: dict[str, Any]) -> bool:
    """Return whether every value of *message* is immutable.

    A flat message is copied safely with ``dict.copy``, which is what makes a
    large group fan-out cheap.
    """
    return all(type(value) in _IMMUTABLE for value in message.values())
