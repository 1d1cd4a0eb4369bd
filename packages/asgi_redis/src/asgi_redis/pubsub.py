"""The pub/sub Redis channel layer (``asgi_redis.pubsub.RedisPubSubChannelLayer``)."""

from __future__ import annotations

from ._pubsub import RedisPubSubChannelLayer

__all__ = ["RedisPubSubChannelLayer"]
