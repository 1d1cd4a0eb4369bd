"""asgiref.typing: the TypedDicts describe real ASGI messages (checked at runtime too)."""

from __future__ import annotations

import typing

import pytest
from asgiref import typing as asgi_typing


def keys(td: type) -> tuple[set[str], set[str]]:
    hints = td.__annotations__
    required = set(getattr(td, "__required_keys__", hints))
    optional = set(getattr(td, "__optional_keys__", set()))
    return required, optional


@pytest.mark.parametrize(
    ("name", "event_type"),
    [
        ("HTTPRequestEvent", "http.request"),
        ("HTTPResponseStartEvent", "http.response.start"),
        ("HTTPResponseBodyEvent", "http.response.body"),
        ("HTTPResponseTrailersEvent", "http.response.trailers"),
        ("HTTPServerPushEvent", "http.response.push"),
        ("HTTPDisconnectEvent", "http.disconnect"),
        ("WebSocketConnectEvent", "websocket.connect"),
        ("WebSocketAcceptEvent", "websocket.accept"),
        ("WebSocketReceiveEvent", "websocket.receive"),
        ("WebSocketSendEvent", "websocket.send"),
        ("WebSocketResponseStartEvent", "websocket.http.response.start"),
        ("WebSocketResponseBodyEvent", "websocket.http.response.body"),
        ("WebSocketDisconnectEvent", "websocket.disconnect"),
        ("WebSocketCloseEvent", "websocket.close"),
        ("LifespanStartupEvent", "lifespan.startup"),
        ("LifespanShutdownEvent", "lifespan.shutdown"),
        ("LifespanStartupCompleteEvent", "lifespan.startup.complete"),
        ("LifespanStartupFailedEvent", "lifespan.startup.failed"),
        ("LifespanShutdownCompleteEvent", "lifespan.shutdown.complete"),
        ("LifespanShutdownFailedEvent", "lifespan.shutdown.failed"),
    ],
)
def test_event_type_literals(name: str, event_type: str) -> None:
    td = getattr(asgi_typing, name)
    hints = typing.get_type_hints(td)
    assert typing.get_args(hints["type"]) == (event_type,)


def test_scope_fields() -> None:
    required, optional = keys(asgi_typing.HTTPScope)
    assert {"type", "asgi", "method", "path", "raw_path", "query_string", "headers"} <= required
    assert {"state", "extensions"} <= optional
    required, _ = keys(asgi_typing.WebSocketScope)
    assert "subprotocols" in required
    assert "method" not in required
    required, optional = keys(asgi_typing.LifespanScope)
    assert required == {"type", "asgi"}
    assert optional == {"state"}


def test_unions_cover_their_members() -> None:
    assert set(typing.get_args(asgi_typing.Scope)) == {
        asgi_typing.HTTPScope,
        asgi_typing.WebSocketScope,
        asgi_typing.LifespanScope,
    }
    assert asgi_typing.HTTPDisconnectEvent in typing.get_args(asgi_typing.ASGIReceiveEvent)
    assert asgi_typing.WebSocketCloseEvent in typing.get_args(asgi_typing.ASGISendEvent)


def test_websocket_disconnect_reason_is_optional() -> None:
    required, optional = keys(asgi_typing.WebSocketDisconnectEvent)
    assert required == {"type", "code"}
    assert optional == {"reason"}
