"""The helpers of ``channels_redis.utils``, under the same names.

``_consistent_hash`` is channels_redis' CRC-based shard index; the layers
themselves use a consistent-hash ring over their shards' addresses instead.
"""

from __future__ import annotations

from ._compat import close_redis as _close_redis
from ._compat import consistent_hash as _consistent_hash
from ._compat import create_pool, decode_hosts

__all__ = ["_close_redis", "_consistent_hash", "create_pool", "decode_hosts"]
