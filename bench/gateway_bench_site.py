"""Django settings for bench/gateway_bench.py (the Redis layer named by the environment)."""

import os

SECRET_KEY = "gateway-bench"
INSTALLED_APPS = ["channels"]
ASGI_APPLICATION = "gateway_bench_app.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "asgi_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")],
            "prefix": os.environ.get("GATEWAY_BENCH_PREFIX", "gateway-bench"),
            "capacity": 5000,
        },
    }
}
USE_TZ = True
