"""Settings for runworker/rundelay children in the channels.tasks tests.

The suite's settings plus the result store, TASKS, and the layer named by
CHANNELS_TASKS_LAYER ("redis" or "ipc") under CHANNELS_TASKS_PREFIX.
"""

import os

from channels_tests_settings import *  # noqa: F403
from channels_tests_settings import INSTALLED_APPS

_PREFIX = os.environ.get("CHANNELS_TASKS_PREFIX", "channels-tasks")
_LAYERS = {
    "redis": {
        "BACKEND": "asgi_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")],
            "prefix": _PREFIX,
            "capacity": 1000,
            "expiry": 300,
        },
    },
    "ipc": {
        "BACKEND": "asgi_ipc.core.IPCChannelLayer",
        "CONFIG": {"prefix": _PREFIX, "capacity": 1000, "expiry": 300},
    },
}

INSTALLED_APPS = [*INSTALLED_APPS, "channels.tasks"]
CHANNEL_LAYERS = {"default": _LAYERS[os.environ.get("CHANNELS_TASKS_LAYER", "redis")]}
TASKS = {
    "default": {
        "BACKEND": "channels.tasks.ChannelLayerBackend",
        "QUEUES": ["default", "other"],
        "OPTIONS": {"CHANNEL_LAYER": "default", "RESULT_DATABASE": "default"},
    }
}
ROOT_URLCONF = "channels_tasks_app"

# Workers, the delay server and the test process write to one SQLite file:
# wait for each other's locks instead of failing after the default 5 seconds.
DATABASES = {
    "default": {
        **DATABASES["default"],  # noqa: F405
        "OPTIONS": {"timeout": 60, "init_command": "PRAGMA journal_mode=WAL"},
    }
}
