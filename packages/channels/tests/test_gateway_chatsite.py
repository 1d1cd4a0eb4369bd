"""Settings for the gateway-mode process tests: the Redis test layer and the chat app below.

A settings module, not a test module (pytest finds no tests in it). Workers
started with ``--settings=test_gateway_chatsite`` serve
``test_gateway_chatapp.application``.
"""

from channels_tests_redis_settings import *  # noqa: F403
from channels_tests_redis_settings import REDIS_LAYER

ASGI_APPLICATION = "test_gateway_chatapp.application"
CHANNEL_LAYERS = {
    # Room fan-out runs ahead of the readers for a moment during a move: room for it.
    "default": {**REDIS_LAYER, "CONFIG": {**REDIS_LAYER["CONFIG"], "capacity": 5000}},
}
