"""CHAT_CHANNEL_LAYER picks the channel layer; unknown names fail at startup."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import pytest
from chatsite.layers import LAYER_NAMES, channel_layers_from_env


def test_default_is_in_memory() -> None:
    assert channel_layers_from_env({}) == {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    assert channel_layers_from_env({"CHAT_CHANNEL_LAYER": "  "}) == channel_layers_from_env({})


def test_redis_uses_url_and_prefix_from_env() -> None:
    layers = channel_layers_from_env(
        {
            "CHAT_CHANNEL_LAYER": "Redis",
            "ASGI_REDIS_URL": "redis://10.0.0.5:6380/2",
            "CHAT_LAYER_PREFIX": "room-test",
        }
    )
    assert layers == {
        "default": {
            "BACKEND": "asgi_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://10.0.0.5:6380/2"], "prefix": "room-test"},
        }
    }


def test_redis_defaults_to_local_server() -> None:
    config = channel_layers_from_env({"CHAT_CHANNEL_LAYER": "redis"})["default"]["CONFIG"]
    assert config == {"hosts": ["redis://127.0.0.1:6379/0"], "prefix": "chat"}


def test_rabbitmq_and_ipc() -> None:
    rabbit = channel_layers_from_env({"CHAT_CHANNEL_LAYER": "rabbitmq"})["default"]
    assert rabbit == {
        "BACKEND": "asgi_rabbitmq.core.RabbitmqChannelLayer",
        "CONFIG": {"host": "amqp://guest:guest@127.0.0.1:5672/", "prefix": "chat"},
    }
    ipc = channel_layers_from_env({"CHAT_CHANNEL_LAYER": "ipc", "CHAT_LAYER_PREFIX": "p1"})
    assert ipc["default"] == {
        "BACKEND": "asgi_ipc.core.IPCChannelLayer",
        "CONFIG": {"prefix": "p1"},
    }


def test_every_documented_name_is_accepted() -> None:
    backends = {
        channel_layers_from_env({"CHAT_CHANNEL_LAYER": n})["default"]["BACKEND"]
        for n in LAYER_NAMES
    }
    assert len(backends) == len(LAYER_NAMES)


def test_unknown_layer_names_the_choices_and_what_arrived() -> None:
    with pytest.raises(ValueError, match=r"one of memory, redis, rabbitmq, ipc; got 'reddis'"):
        channel_layers_from_env({"CHAT_CHANNEL_LAYER": "reddis"})


def test_settings_turn_a_bad_layer_name_into_improperly_configured(
    servers_kit: ModuleType,
) -> None:
    # A fresh interpreter: the settings module is imported once per process.
    code = "import django; django.setup()"
    env = servers_kit.subprocess_env({"CHAT_CHANNEL_LAYER": "mongo"})
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "got 'mongo'" in result.stderr
