"""Pins the public API: changing it must be a deliberate, visible decision."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "asgi_redis": ["__version__"],
    "asgi_redis.core": ["BoundedQueue", "ChannelFull", "RedisChannelLayer"],
    "asgi_redis.pubsub": ["RedisPubSubChannelLayer"],
    "asgi_redis.exceptions": ["ChannelNotOwned", "MessageDecryptionError"],
    "asgi_redis.serializers": [
        "BaseMessageSerializer", "DjangoMsgPackSerializer", "JSONSerializer",
        "MsgPackSerializer", "SerializerDoesNotExist", "SerializersRegistry", "registry",
    ],
    "asgi_redis.utils": ["_close_redis", "_consistent_hash", "create_pool", "decode_hosts"],
}  # fmt: skip

#: Re-exported from asgiref, so that one class is caught whichever module names it.
SHARED = {("asgi_redis.core", "ChannelFull")}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_members(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(PUBLIC[module_name])
    for name in module.__all__:
        member = getattr(module, name)
        if (module_name, name) in SHARED:
            assert member.__module__.startswith("asgiref.layers")
        elif name != "__version__":
            assert member.__module__.startswith("asgi_redis.")


def test_channel_full_is_the_one_channels_catches() -> None:
    from asgi_redis.core import ChannelFull
    from asgiref.layers import ChannelFull as Shared

    assert ChannelFull is Shared


def test_layer_signatures_follow_channels_redis() -> None:
    import inspect

    from asgi_redis.core import RedisChannelLayer

    parameters = inspect.signature(RedisChannelLayer).parameters
    for name in (
        "hosts", "prefix", "expiry", "group_expiry", "capacity", "channel_capacity",
        "symmetric_encryption_keys", "random_prefix_length", "serializer_format",
    ):  # fmt: skip
        assert name in parameters
    assert RedisChannelLayer.extensions == ["groups", "flush"]


def test_import_has_no_side_effects() -> None:
    code = (
        "import asyncio, sys, threading\n"
        "import asgi_redis, asgi_redis.core, asgi_redis.pubsub, asgi_redis.serializers\n"
        "import asgi_redis.utils, asgi_redis.exceptions\n"
        "assert threading.active_count() == 1\n"
        "assert asyncio.get_event_loop_policy()._local._loop is None\n"
        "assert 'django' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
