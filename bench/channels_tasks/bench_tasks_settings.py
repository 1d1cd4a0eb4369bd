"""Settings for bench/channels_tasks_bench.py (the bench and its workers import it)."""

import os

SECRET_KEY = "bench-not-secret"
INSTALLED_APPS = ["channels", "channels.tasks"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["BENCH_TASKS_DB"],
        "OPTIONS": {"timeout": 60, "init_command": "PRAGMA journal_mode=WAL"},
    }
}
USE_TZ = True
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "asgi_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")],
            "prefix": os.environ["BENCH_TASKS_PREFIX"],
            "capacity": 10_000,
            "expiry": 600,
        },
    }
}
_STORE = os.environ.get("BENCH_TASKS_STORE") == "1"
TASKS = {
    "default": {
        "BACKEND": "channels.tasks.ChannelLayerBackend",
        "OPTIONS": {"RESULT_DATABASE": "default" if _STORE else None},
    }
}
ASGI_APPLICATION = "bench_tasks_app.application"
