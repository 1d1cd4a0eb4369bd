"""The list-based Redis channel layer (``asgi_redis.core.RedisChannelLayer``).

Also ``ChannelFull`` (raised by ``send`` at capacity; the same class as
``asgiref.layers.ChannelFull`` and ``channels.exceptions.ChannelFull``) and
``BoundedQueue`` (the type of ``layer.receive_buffer[channel]``), as channels_redis'
``core`` module offers them.
"""

from __future__ import annotations

from asgiref.layers import ChannelFull

from ._buffers import BoundedQueue
from ._core import RedisChannelLayer

__all__ = ["BoundedQueue", "ChannelFull", "RedisChannelLayer"]
