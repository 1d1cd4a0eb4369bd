"""What the kit's HTTP and WebSocket applications share: events, JSON, query strings.

The event log lives in the server process (the kit's app runs inside the server under
test); a check reads it back over HTTP from ``/events?key=...``. Keys are unique per
check, so checks never see each other's events. The log is bounded: at most 1,000 keys
of 100 events, oldest key dropped first.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_MAX_KEYS = 1000
_MAX_EVENTS = 100

_events: dict[str, list[str]] = {}


def record(key: str, event: str) -> None:
    if not key:
        return
    if key not in _events and len(_events) >= _MAX_KEYS:
        del _events[next(iter(_events))]
    bucket = _events.setdefault(key, [])
    if len(bucket) < _MAX_EVENTS:
        bucket.append(event)


def events(key: str) -> list[str]:
    return list(_events.get(key, []))


def query(scope: dict[str, Any]) -> dict[str, str]:
    raw = scope.get("query_string", b"")
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    return {name: values[-1] for name, values in parse_qs(text).items()}


def jsonable(value: Any) -> Any:
    """The scope as JSON: bytes as latin-1 text, tuples as lists, other objects as repr."""
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return {"repr": type(value).__name__}


def scope_json(scope: dict[str, Any], **extra: Any) -> bytes:
    data = jsonable({key: value for key, value in scope.items() if key != "state"})
    state = scope.get("state")
    data["state"] = None if state is None else {str(k): repr(v) for k, v in state.items()}
    data.update(extra)
    return json.dumps(data).encode()


__all__ = ["Receive", "Scope", "Send", "events", "jsonable", "query", "record", "scope_json"]
