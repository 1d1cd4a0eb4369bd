"""Redis channel layers for ASGI applications and Django Channels.

``asgi_redis.core.RedisChannelLayer`` (lists, capacity, expiry, sharding, Sentinel,
Cluster, encryption) and ``asgi_redis.pubsub.RedisPubSubChannelLayer`` (pub/sub).
"""

from __future__ import annotations

__version__ = "4.0.0"

__all__ = ["__version__"]
