"""Pins the public API of every public channels module."""

from __future__ import annotations

import importlib

import pytest

PUBLIC_API = {
    "channels": ["DEFAULT_CHANNEL_LAYER", "__version__"],
    "channels.apps": ["ChannelsConfig"],
    "channels.auth": [
        "AuthMiddleware",
        "AuthMiddlewareStack",
        "UserLazyObject",
        "get_user",
        "login",
        "logout",
    ],
    "channels.binding": ["Binding", "WebsocketBinding"],
    "channels.checks": ["check_asgi_application", "check_channel_layers"],
    "channels.consumer": ["AsyncConsumer", "SyncConsumer", "get_handler_name"],
    "channels.db": ["aclose_old_connections", "database_sync_to_async"],
    "channels.delay": [
        "DELAY_CHANNEL",
        "MAX_DELAY_MS",
        "InvalidDelayMessage",
        "send_delayed",
        "validate_delay_message",
    ],
    "channels.delay.apps": ["DelayConfig"],
    "channels.delay.models": ["DelayedMessage"],
    "channels.exceptions": [
        "AcceptConnection",
        "ChannelFull",
        "DenyConnection",
        "InvalidChannelLayerError",
        "MessageTooLarge",
        "RequestAborted",
        "RequestTimeout",
        "StopConsumer",
    ],
    "channels.generic": [],
    "channels.generic.http": ["AsyncHttpConsumer"],
    "channels.generic.multiplex": ["AsyncJsonWebsocketDemultiplexer"],
    "channels.generic.websocket": [
        "AsyncJsonWebsocketConsumer",
        "AsyncWebsocketConsumer",
        "JsonWebsocketConsumer",
        "WebsocketConsumer",
    ],
    "channels.layers": [
        "BaseChannelLayer",
        "ChannelLayerManager",
        "InMemoryChannelLayer",
        "channel_layers",
        "get_channel_layer",
    ],
    "channels.lifespan": ["Lifespan"],
    "channels.middleware": ["BaseMiddleware"],
    "channels.routing": [
        "ChannelNameRouter",
        "ProtocolTypeRouter",
        "URLRouter",
        "get_default_application",
    ],
    "channels.security": [],
    "channels.security.websocket": [
        "AllowedHostsOriginValidator",
        "OriginValidator",
        "WebsocketDenier",
    ],
    "channels.sessions": [
        "CookieMiddleware",
        "InstanceSessionWrapper",
        "SessionMiddleware",
        "SessionMiddlewareStack",
    ],
    "channels.testing": [
        "ApplicationCommunicator",
        "ChannelsLiveServerTestCase",
        "HttpCommunicator",
        "WebsocketCommunicator",
    ],
    "channels.testing.application": ["ApplicationCommunicator"],
    "channels.testing.http": ["HttpCommunicator"],
    "channels.testing.live": ["ChannelsLiveServerTestCase"],
    "channels.testing.websocket": ["WebsocketCommunicator"],
    "channels.utils": ["await_many_dispatch", "name_that_thing"],
    "channels.worker": ["Worker"],
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC_API))
def test_public_api_is_pinned(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(PUBLIC_API[module_name])
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{module_name}.{name}"


def test_all_is_complete() -> None:
    # Every public channels object a module exposes is listed in its __all__.
    import types

    for module_name in PUBLIC_API:
        module = importlib.import_module(module_name)
        for name in dir(module):
            value = getattr(module, name)
            if name.startswith("_") or isinstance(value, types.ModuleType):
                continue
            defined_in = getattr(value, "__module__", "") or ""
            if defined_in.startswith("channels"):
                assert name in module.__all__, f"{module_name}.{name} is missing from __all__"


def test_version_is_a_release_string() -> None:
    import channels

    major, minor, patch = channels.__version__.split(".")
    assert (int(major), int(minor), int(patch)) >= (4, 0, 0)
