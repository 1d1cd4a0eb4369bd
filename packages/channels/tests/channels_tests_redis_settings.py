"""Test settings plus a Redis channel layer (for the cross-process runworker test).

Kept apart from the base settings: the base must pass ``manage.py check``
without asgi_redis installed.
"""

import os

from channels_tests_settings import *  # noqa: F403

REDIS_LAYER = {
    "BACKEND": "asgi_redis.core.RedisChannelLayer",
    "CONFIG": {
        "hosts": [os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")],
        "prefix": os.environ.get("CHANNELS_TEST_REDIS_PREFIX", "channels-tests"),
    },
}
CHANNEL_LAYERS = {"default": REDIS_LAYER}
