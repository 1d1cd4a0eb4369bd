"""Pin the public API: adding or removing a public name must be deliberate."""

from __future__ import annotations

import asgi_rabbitmq
import asgi_rabbitmq.core


def test_package_exports() -> None:
    assert asgi_rabbitmq.__all__ == ["__version__"]
    assert isinstance(asgi_rabbitmq.__version__, str)


def test_core_exports() -> None:
    assert sorted(asgi_rabbitmq.core.__all__) == [
        "BrokerUnavailable",
        "ChannelNotOwned",
        "RabbitmqChannelLayer",
        "ReconnectDelay",
    ]
    for name in asgi_rabbitmq.core.__all__:
        if name == "ReconnectDelay":  # a number, as in channels_rabbitmq
            assert isinstance(asgi_rabbitmq.core.ReconnectDelay, float)
        else:
            assert getattr(asgi_rabbitmq.core, name).__module__.startswith("asgi_rabbitmq._")


def test_layer_keeps_the_documented_constructor() -> None:
    import inspect

    parameters = inspect.signature(asgi_rabbitmq.core.RabbitmqChannelLayer).parameters
    assert list(parameters) == [
        "host",
        "ssl_context",
        "prefix",
        "expiry",
        "local_expiry",
        "group_expiry",
        "capacity",
        "channel_capacity",
        "local_capacity",
        "remote_capacity",
        "prefetch_count",
        "connect_timeout",
        "serializer",
        "groups_exchange",
    ]
    assert asgi_rabbitmq.core.RabbitmqChannelLayer.extensions == ["groups", "flush"]
