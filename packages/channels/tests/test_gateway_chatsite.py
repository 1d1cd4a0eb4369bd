"""Settings for the gateway-mode process tests: the Redis test layer and the chat app below.

A settings module, not a test module (pytest finds no tests in it). Workers
started with ``--settings=test_gateway_chatsite`` serve
``test_gateway_chatapp.application``.
"""

import json
import os

from channels_tests_redis_settings import *  # noqa: F403
from channels_tests_redis_settings import REDIS_LAYER

ASGI_APPLICATION = "test_gateway_chatapp.application"
# Room fan-out runs ahead of the readers for a moment during a move: room for it. Each
# gateway-served consumer reads its own (not process-local) channel, one blocking Redis
# connection each: the pool must hold more than a worker's connections.
_CONFIG = REDIS_LAYER["CONFIG"]
CHANNEL_LAYERS = {
    "default": {
        **REDIS_LAYER,
        "CONFIG": {
            **_CONFIG,
            "capacity": 5000,
            "hosts": [{"address": url, "max_connections": 1000} for url in _CONFIG["hosts"]],
        },
    },
}

if os.environ.get("GATEWAY_TEST_LAYER"):
    # The smaller runs over other layers (IPC, RabbitMQ): BACKEND and CONFIG as JSON.
    CHANNEL_LAYERS = {"default": json.loads(os.environ["GATEWAY_TEST_LAYER"])}
