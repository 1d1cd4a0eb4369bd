"""Routers: by protocol type, by URL (path/re_path, nesting, root_path) and by channel."""

from __future__ import annotations

from typing import Any

import pytest
from channels.routing import (
    ChannelNameRouter,
    ProtocolTypeRouter,
    URLRouter,
    get_default_application,
)
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import include, path, re_path


class Recorder:
    """An ASGI app that remembers the scopes it was called with."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append(scope)


async def _nothing() -> dict[str, Any]:
    raise AssertionError("routers must not receive")


async def _discard(message: dict[str, Any]) -> None:
    raise AssertionError("routers must not send")


async def call(app: Any, scope: dict[str, Any]) -> None:
    await app(scope, _nothing, _discard)


async def test_protocol_type_router_routes_by_scope_type() -> None:
    http, websocket = Recorder(), Recorder()
    router = ProtocolTypeRouter({"http": http, "websocket": websocket})
    await call(router, {"type": "websocket", "path": "/"})
    await call(router, {"type": "http", "path": "/"})
    assert [s["type"] for s in websocket.scopes] == ["websocket"]
    assert [s["type"] for s in http.scopes] == ["http"]


async def test_protocol_type_router_names_unknown_type() -> None:
    router = ProtocolTypeRouter({"http": Recorder()})
    with pytest.raises(ValueError, match=r"'websocket'.*\['http'\]"):
        await call(router, {"type": "websocket"})


def test_protocol_type_router_rejects_a_non_application() -> None:
    with pytest.raises(TypeError, match="entry 'websocket' must be an ASGI application"):
        ProtocolTypeRouter({"websocket": "not an app"})  # type: ignore[dict-item]


def test_consumer_class_instead_of_as_asgi_is_named() -> None:
    from channels.generic.websocket import AsyncWebsocketConsumer

    message = r"consumer class AsyncWebsocketConsumer; route AsyncWebsocketConsumer\.as_asgi\(\)"
    with pytest.raises(TypeError, match=message):
        ProtocolTypeRouter({"websocket": AsyncWebsocketConsumer})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=message):
        URLRouter([path("ws/", AsyncWebsocketConsumer)])
    with pytest.raises(TypeError, match=message):
        ChannelNameRouter({"jobs": AsyncWebsocketConsumer})  # type: ignore[dict-item]


async def test_url_router_path_converters_fill_url_route() -> None:
    app = Recorder()
    router = URLRouter([path("rooms/<int:room>/<slug:name>/", app)])
    await call(router, {"type": "websocket", "path": "/rooms/42/lobby/"})
    assert app.scopes[0]["url_route"] == {"args": (), "kwargs": {"room": 42, "name": "lobby"}}


async def test_url_router_re_path_positional_and_named_groups() -> None:
    positional, named = Recorder(), Recorder()
    router = URLRouter(
        [re_path(r"^pos/(\d+)/$", positional), re_path(r"^named/(?P<key>\w+)/$", named)]
    )
    await call(router, {"type": "websocket", "path": "/pos/7/"})
    await call(router, {"type": "websocket", "path": "/named/abc/"})
    assert positional.scopes[0]["url_route"] == {"args": ("7",), "kwargs": {}}
    assert named.scopes[0]["url_route"] == {"args": (), "kwargs": {"key": "abc"}}


async def test_url_router_default_kwargs_of_path() -> None:
    app = Recorder()
    router = URLRouter([path("x/", app, {"flavour": "plain"})])
    await call(router, {"type": "http", "path": "/x/"})
    assert app.scopes[0]["url_route"]["kwargs"] == {"flavour": "plain"}


async def test_url_router_no_match_names_the_path_without_its_leading_slashes() -> None:
    router = URLRouter([path("a/", Recorder())])
    with pytest.raises(ValueError, match=r"^No route found for path 'b/'\.$"):
        await call(router, {"type": "http", "path": "//b/"})


async def test_url_router_strips_every_leading_slash() -> None:
    recorder = Recorder()
    router = URLRouter([path("a/", recorder)])
    await call(router, {"type": "http", "path": "///a/"})
    assert len(recorder.scopes) == 1


async def test_url_router_endpoint_must_match_whole_path() -> None:
    router = URLRouter([path("a/", Recorder())])
    with pytest.raises(ValueError, match="No route found"):
        await call(router, {"type": "http", "path": "/a/extra/"})


@pytest.mark.parametrize("outer", ["path", "re_path"])
async def test_nested_routers_strip_prefix_and_merge_kwargs(outer: str) -> None:
    app = Recorder()
    inner = URLRouter([path("chat/<str:room>/", app)])
    if outer == "path":
        router = URLRouter([path("tenant/<int:tenant>/", inner)])
    else:
        router = URLRouter([re_path(r"^tenant/(?P<tenant>\d+)/", inner)])
    scope = {"type": "websocket", "path": "/tenant/3/chat/lobby/"}
    await call(router, scope)
    seen = app.scopes[0]
    tenant = 3 if outer == "path" else "3"
    assert seen["url_route"] == {"args": (), "kwargs": {"tenant": tenant, "room": "lobby"}}
    assert "path_remaining" not in seen
    assert seen["path"] == "/tenant/3/chat/lobby/"
    assert "url_route" not in scope  # the outer scope is untouched


async def test_nested_router_no_match_below_prefix_names_the_outer_path() -> None:
    router = URLRouter([path("v1/", URLRouter([path("a/", Recorder())]))])
    with pytest.raises(ValueError, match=r"^No route found for path 'v1/b/'\.$"):
        await call(router, {"type": "http", "path": "/v1/b/"})


async def test_when_a_nested_router_finds_nothing_the_next_routes_get_their_turn() -> None:
    fallback = Recorder()
    router = URLRouter(
        [
            path("api/", URLRouter([path("users/", Recorder())])),
            re_path(r"^api/", fallback),
        ]
    )
    await call(router, {"type": "http", "path": "/api/other/"})
    assert [scope["path"] for scope in fallback.scopes] == ["/api/other/"]


async def test_an_application_marked_path_routing_is_matched_as_a_prefix() -> None:
    class PrefixRouter(Recorder):
        _path_routing = True  # upstream's marker for routers of the rest of the path

    inner = PrefixRouter()
    await call(URLRouter([path("chat/", inner)]), {"type": "http", "path": "/chat/room/7/"})
    assert inner.scopes[0]["path_remaining"] == "room/7/"


@pytest.mark.parametrize("full_path", ["/mount/rooms/1/", "/rooms/1/"])
async def test_root_path_is_honoured(full_path: str) -> None:
    # Servers differ on whether path includes root_path; both forms route.
    app = Recorder()
    router = URLRouter([path("rooms/<int:pk>/", app)])
    await call(router, {"type": "http", "path": full_path, "root_path": "/mount"})
    assert app.scopes[0]["url_route"]["kwargs"] == {"pk": 1}


def test_include_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"include\(\).*URLRouter"):
        URLRouter([path("api/", include([path("x/", lambda request: None)]))])


def test_non_pattern_route_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="path\\(\\) or re_path\\(\\)"):
        URLRouter(["not a route"])


async def test_scope_without_path_is_refused() -> None:
    router = URLRouter([path("a/", Recorder())])
    with pytest.raises(ValueError, match=r"^No 'path' key in connection scope, cannot route URLs"):
        await call(router, {"type": "channel"})


async def test_channel_name_router() -> None:
    first, second = Recorder(), Recorder()
    router = ChannelNameRouter({"thumbnails": first, "emails": second})
    await call(router, {"type": "channel", "channel": "emails"})
    assert first.scopes == [] and second.scopes[0]["channel"] == "emails"
    with pytest.raises(
        ValueError,
        match=r"^No application configured for channel name 'unknown'.*\['emails', 'thumbnails'\]",
    ):
        await call(router, {"type": "channel", "channel": "unknown"})
    with pytest.raises(ValueError, match=r"^ChannelNameRouter got a scope without a 'channel' key"):
        await call(router, {"type": "http"})


def test_get_default_application_reads_settings() -> None:
    import channels_tests_app

    assert get_default_application() is channels_tests_app.application
    with (
        override_settings(ASGI_APPLICATION="nowhere.application"),
        pytest.raises(ImproperlyConfigured, match=r"nowhere\.application"),
    ):
        get_default_application()
    with override_settings(ASGI_APPLICATION=None), pytest.raises(ImproperlyConfigured):
        get_default_application()


async def test_every_router_returns_what_the_routed_application_returns() -> None:
    async def answer(scope: Any, receive: Any, send: Any) -> str:
        return "from the app"

    routers = [
        (ProtocolTypeRouter({"http": answer}), {"type": "http", "path": "/"}),
        (URLRouter([path("x/", answer)]), {"type": "http", "path": "/x/"}),
        (
            URLRouter([path("a/", URLRouter([path("b/", answer)]))]),
            {"type": "http", "path": "/a/b/"},
        ),
        (ChannelNameRouter({"jobs": answer}), {"type": "channel", "channel": "jobs"}),
    ]
    for router, scope in routers:
        assert await router(scope, _nothing, _discard) == "from the app"
