"""Configuration validation: bad settings fail at construction with a clear message."""

from __future__ import annotations

import re
import ssl
from typing import Any

import pytest
from asgi_rabbitmq._config import queue_arguments
from asgi_rabbitmq.core import RabbitmqChannelLayer
from asgiref.layers import InvalidChannelLayerError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": 5672}, "host must be an AMQP URL string"),
        ({"host": "redis://127.0.0.1"}, "got scheme 'redis'"),
        ({"ssl_context": ssl.create_default_context()}, "ssl_context needs an amqps:// host URL"),
        ({"host": "amqps://h/", "ssl_context": "yes"}, "must be an ssl.SSLContext, got str"),
        ({"expiry": 0}, "expiry must be a positive number, got 0"),
        ({"expiry": float("inf")}, "expiry must be a positive number, got inf"),
        ({"local_expiry": -1}, "local_expiry must be a positive number"),
        ({"group_expiry": "1"}, "group_expiry must be a positive number, got '1'"),
        ({"capacity": 0}, "capacity must be a positive int, got 0"),
        ({"local_capacity": 1.5}, "local_capacity must be a positive int, got 1.5"),
        ({"remote_capacity": True}, "remote_capacity must be a positive int, got True"),
        ({"prefetch_count": 0}, "prefetch_count must be a positive int"),
        ({"prefix": ""}, "prefix must be a non-empty str"),
        ({"channel_capacity": {"a.*": 0}}, "must be a positive int"),
        ({"serializer": "nope"}, "Unknown serializer 'nope'"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidChannelLayerError, match=re.escape(message)):
        RabbitmqChannelLayer(**kwargs)


def test_defaults_follow_the_general_settings() -> None:
    layer = RabbitmqChannelLayer(expiry=5, capacity=7, channel_capacity={"big.*": 50})
    assert layer.config.local_expiry == 5
    assert layer.config.remote_capacity == 7
    assert layer.config.local_capacities.capacity_for("small") == 7
    assert layer.config.local_capacities.capacity_for("big.one") == 50
    assert layer.get_capacity("big.one") == 50


def test_queue_arguments_reject_when_full_and_outlive_their_messages() -> None:
    layer = RabbitmqChannelLayer(expiry=2.5)
    arguments = queue_arguments(layer.config, 9)
    assert arguments["x-max-length"] == 9
    assert arguments["x-overflow"] == "reject-publish"
    assert arguments["x-message-ttl"] == 2500
    assert arguments["x-expires"] > arguments["x-message-ttl"]


def test_construction_does_no_io() -> None:
    # An unreachable host is only noticed on first use.
    RabbitmqChannelLayer("amqp://guest:guest@127.0.0.1:1/%2F")
