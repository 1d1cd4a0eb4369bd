"""Helpers channels_redis exposed in ``channels_redis.utils``, for code that imports them.

The layers do not use these: they place channels with their own consistent-hash
ring over the shards' identities (``_ring``) and parse ``hosts`` with ``_hosts``.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from asgiref.layers import InvalidChannelLayerError
from redis.asyncio import ConnectionPool
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

__all__ = ["close_redis", "consistent_hash", "create_pool", "decode_hosts"]


def consistent_hash(value: str | bytes, ring_size: int) -> int:
    """channels_redis' shard index for *value*: CRC32's low 12 bits scaled to *ring_size*."""
    if ring_size == 1:
        return 0
    data = value.encode("utf8") if isinstance(value, str) else value
    return (zlib.crc32(data) & 0xFFF) * ring_size // 4096


async def close_redis(connection: Any) -> None:
    """Close a redis-py asyncio client and its connection pool."""
    await connection.aclose(close_connection_pool=True)


def decode_hosts(hosts: Sequence[Any] | None) -> list[dict[str, Any]]:
    """The ``hosts`` setting as one dict of connection arguments per host."""
    if not hosts:
        return [{"address": "redis://localhost:6379"}]
    if isinstance(hosts, (str, bytes)):
        raise InvalidChannelLayerError(
            f"hosts must be a list of Redis hosts, even if there is only one; got {hosts!r}"
        )
    result: list[dict[str, Any]] = []
    for entry in hosts:
        if isinstance(entry, dict):
            result.append(entry)
        elif isinstance(entry, (tuple, list)):
            result.append({"host": entry[0], "port": entry[1]})
        else:
            result.append({"address": entry})
    return result


def create_pool(host: dict[str, Any]) -> ConnectionPool:
    """A redis-py asyncio connection pool for one entry of :func:`decode_hosts`."""
    options = dict(host)  # the caller's dict stays as it was
    if "address" in options:
        return ConnectionPool.from_url(options.pop("address"), **options)
    master_name = options.pop("master_name", None)
    if master_name is not None:
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            options.pop("sentinels"), sentinel_kwargs=options.pop("sentinel_kwargs", None)
        )
        return SentinelConnectionPool(master_name, sentinel, **options)  # type: ignore[no-untyped-call]
    return ConnectionPool(**options)
