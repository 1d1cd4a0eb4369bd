"""Pure builders for the ASGI messages consumers send, and protocol state.

Sync and async consumers both call these and only differ in how they hand
the result to the server. No IO happens here.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from ._types import Message

__all__ = [
    "HeaderInput",
    "HttpResponseState",
    "WebsocketState",
    "handler_name",
    "http_body",
    "http_start",
    "normalize_headers",
    "websocket_accept",
    "websocket_close",
    "websocket_payload",
    "websocket_send",
]

HeaderInput = Mapping[str | bytes, str | bytes] | Iterable[tuple[str | bytes, str | bytes]] | None


def handler_name(message: Mapping[str, Any]) -> str:
    """Map a message ``type`` to the consumer method that handles it.

    ``"websocket.receive"`` becomes ``"websocket_receive"``. A name with a
    leading underscore (from ``_x`` or ``.x``) is refused so that a peer
    cannot reach private methods.
    """
    # Each error starts with upstream's wording, which tests match on.
    if "type" not in message:
        raise ValueError(f"Incoming message has no 'type' attribute (keys are {sorted(message)})")
    message_type = message["type"]
    if not isinstance(message_type, str):
        raise ValueError(
            f"Message 'type' must be a str, got {type(message_type).__name__} {message_type!r}"
        )
    return _method_name(message_type)


@functools.lru_cache(maxsize=1024)
def _method_name(message_type: str) -> str:
    # Cached: a consumer sees a handful of types, once per message (per recipient of a
    # broadcast). Only results are cached; a refused type raises every time.
    name = message_type.replace(".", "_")
    # Checked after the replacement: ".private" must not reach "_private" either.
    if not name or name.startswith("_"):
        raise ValueError(
            f"Malformed type in message (leading underscore): {message_type!r} would map to "
            f"the method {name!r}; types must be non-empty and start with neither '_' nor '.'"
        )
    return name


def _as_bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("latin-1")
    raise TypeError(f"Header {what} must be str or bytes, got {type(value).__name__}")


def normalize_headers(headers: HeaderInput) -> list[Sequence[bytes]]:
    """Turn a dict or an iterable of pairs (str or bytes) into ASGI header pairs.

    Pairs that already hold bytes go out exactly as given (a ``[name, value]``
    list stays a list, names keep their case), as upstream's consumers pass
    them through; str names and values are encoded as latin-1.
    """
    if headers is None:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    result: list[Sequence[bytes]] = []
    for pair in pairs:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError(f"Each header must be a (name, value) pair, got {pair!r}") from None
        if isinstance(pair, (tuple, list)) and isinstance(name, bytes) and isinstance(value, bytes):
            result.append(cast("Sequence[bytes]", pair))
        else:
            result.append((_as_bytes(name, "name"), _as_bytes(value, "value")))
    return result


# WebSocket ---------------------------------------------------------------------


class WebsocketState(enum.Enum):
    """Server side of one WebSocket, as the consumer sees it."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    CLOSED = "closed"

    def require(self, *allowed: WebsocketState, action: str) -> None:
        if self not in allowed:
            names = " or ".join(state.value for state in allowed)
            raise RuntimeError(
                f"Cannot {action}: the WebSocket must be {names}, but it is {self.value}"
            )


def websocket_accept(subprotocol: str | None = None, headers: HeaderInput = None) -> Message:
    message: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
    if headers:
        message["headers"] = normalize_headers(headers)
    return message


def websocket_close(code: int | bool | None = None, reason: str | None = None) -> Message:
    """Build ``websocket.close``; ``code=True`` (upstream's old spelling) means 1000."""
    message: Message = {"type": "websocket.close"}
    if code is True:
        code = 1000
    if code is not None and code is not False:
        if not isinstance(code, int):
            raise TypeError(f"Close code must be an int, got {type(code).__name__} {code!r}")
        message["code"] = code
    if reason:
        message["reason"] = reason
    return message


def websocket_send(text_data: str | None = None, bytes_data: bytes | None = None) -> Message:
    if text_data is not None and bytes_data is not None:
        raise ValueError("Pass only one of text_data or bytes_data, not both")
    if text_data is not None:
        if not isinstance(text_data, str):
            raise TypeError(f"text_data must be str, got {type(text_data).__name__}")
        return {"type": "websocket.send", "text": text_data}
    if bytes_data is not None:
        if not isinstance(bytes_data, (bytes, bytearray)):
            raise TypeError(f"bytes_data must be bytes, got {type(bytes_data).__name__}")
        return {"type": "websocket.send", "bytes": bytes(bytes_data)}
    raise ValueError("You must pass one of text_data or bytes_data")


def websocket_payload(message: Mapping[str, Any]) -> tuple[str | None, bytes | None]:
    """Return ``(text_data, bytes_data)`` of a ``websocket.receive`` message."""
    text = message.get("text")
    data = message.get("bytes")
    return (text, None) if text is not None else (None, data)


# HTTP --------------------------------------------------------------------------


class HttpResponseState(enum.Enum):
    """Progress of the one response an HTTP consumer sends."""

    PENDING = "pending"
    STARTED = "started"
    COMPLETE = "complete"

    def after_headers(self) -> HttpResponseState:
        if self is not HttpResponseState.PENDING:
            raise RuntimeError(f"Cannot send headers: the response is already {self.value}")
        return HttpResponseState.STARTED

    def after_body(self, more_body: bool) -> HttpResponseState:
        if self is HttpResponseState.PENDING:
            raise RuntimeError("Cannot send body: send the response headers first")
        if self is HttpResponseState.COMPLETE:
            raise RuntimeError("Cannot send body: the response is already complete")
        return HttpResponseState.STARTED if more_body else HttpResponseState.COMPLETE


def http_start(status: int, headers: HeaderInput = None) -> Message:
    if not isinstance(status, int) or isinstance(status, bool):
        raise TypeError(f"status must be an int, got {type(status).__name__} {status!r}")
    return {"type": "http.response.start", "status": status, "headers": normalize_headers(headers)}


def http_body(body: bytes, more_body: bool = False) -> Message:
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError(f"body must be bytes, got {type(body).__name__}")
    return {"type": "http.response.body", "body": bytes(body), "more_body": more_body}
