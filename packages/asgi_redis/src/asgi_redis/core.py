"""The list-based Redis channel layer (``asgi_redis.core.RedisChannelLayer``)."""

from __future__ import annotations

from ._core import RedisChannelLayer

__all__ = ["RedisChannelLayer"]
