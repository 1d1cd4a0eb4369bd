"""Redis clients for one event loop, and the shards (key spaces) built on them.

A standalone or Sentinel host is one shard. A Redis Cluster is split into
``cluster_buckets`` shards that share one cluster client: every key of a bucket
carries the same hash tag, so each Lua script only touches keys of one slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import NoScriptError

from ._hosts import HostSpec
from ._scripts import LuaScript

__all__ = ["Lease", "Shard", "ShardClient", "connect_shards"]


@dataclass
class Lease:
    """A connection pinned to one blocking reader, with its server-side client id."""

    connection: AbstractConnection
    client_id: int
    node: ClusterNode | None


class ShardClient:
    """The redis-py client (and what it owns) for one host on one loop."""

    def __init__(self, spec: HostSpec) -> None:
        self.spec = spec
        self.cluster = spec.kind == "cluster"
        self._sentinel: Sentinel | None = None
        self._pool: ConnectionPool | None = None
        self.redis: Any = self._build(spec)

    def _build(self, spec: HostSpec) -> Any:
        options = dict(spec.options)
        # A pooled connection can be stale after a server restart: retry on a fresh one.
        options.setdefault("retry", Retry(ExponentialBackoff(cap=1.0, base=0.05), 3))
        # A burst of concurrent sends waits for a free connection instead of failing
        # with "Too many connections" (max_connections, default 100, still applies).
        if spec.kind == "url":
            assert spec.url is not None
            self._pool = BlockingConnectionPool.from_url(spec.url, **options)
            return Redis(connection_pool=self._pool)
        if spec.kind == "address":
            assert spec.address is not None
            host, port = spec.address
            self._pool = BlockingConnectionPool(host=host, port=port, **options)
            return Redis(connection_pool=self._pool)
        if spec.kind == "sentinel":
            self._sentinel = Sentinel(  # type: ignore[no-untyped-call]
                list(spec.sentinels), sentinel_kwargs=dict(spec.sentinel_kwargs), **options
            )
            client = self._sentinel.master_for(str(spec.master_name))
            self._pool = client.connection_pool
            return client
        if spec.url is not None:
            return RedisCluster.from_url(spec.url, **options)
        nodes = [ClusterNode(host, port) for host, port in spec.cluster_nodes]
        return RedisCluster(startup_nodes=nodes, **options)

    async def lease(self, key: str) -> Lease:
        """Check out a connection for blocking reads of *key*."""
        node: ClusterNode | None = None
        if self.cluster:
            await self.redis.initialize()
            node = self.redis.get_node_from_key(key)
            connection = node.acquire_connection()
        else:
            assert self._pool is not None
            connection = await self._pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            await connection.send_command("CLIENT", "ID")
            client_id = int(await connection.read_response())
        except BaseException:
            await self.release(Lease(connection, 0, node), broken=True)
            raise
        return Lease(connection, client_id, node)

    async def release(self, lease: Lease, broken: bool = False) -> None:
        if broken:
            # A read may be half done: the connection's stream is unusable.
            await lease.connection.disconnect()
        if lease.node is not None:
            lease.node.release(lease.connection)  # type: ignore[arg-type]
        elif self._pool is not None:
            await self._pool.release(lease.connection)

    async def unblock(self, lease: Lease) -> None:
        """Make the blocking command on *lease* return at once, as if it timed out."""
        if lease.node is not None:
            await lease.node.execute_command("CLIENT", "UNBLOCK", lease.client_id)
        else:
            await self.redis.execute_command("CLIENT", "UNBLOCK", lease.client_id)

    async def aclose(self) -> None:
        if self.cluster:
            await self.redis.aclose()
            return
        await self.redis.aclose(close_connection_pool=True)
        if self._sentinel is not None:
            for sentinel in self._sentinel.sentinels:
                await sentinel.aclose()


class Shard:
    """One key space: a client plus the key base (prefix and, in a cluster, hash tag)."""

    __slots__ = ("base", "client", "redis")

    def __init__(self, client: ShardClient, base: str) -> None:
        self.client = client
        self.redis = client.redis
        self.base = base

    def key(self, kind: str, name: str) -> str:
        return f"{self.base}:{kind}:{name}"

    async def run(self, script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run *script* by its SHA, loading it first if the server does not know it.

        The server forgets scripts when it restarts, so NOSCRIPT can happen at any time.
        """
        try:
            return await self.redis.evalsha(script.sha, len(keys), *keys, *args)
        except NoScriptError:
            if self.client.cluster:
                node = self.redis.get_node_from_key(keys[0])
                await self.redis.execute_command("SCRIPT LOAD", script.source, target_nodes=node)
            else:
                await self.redis.script_load(script.source)
            return await self.redis.evalsha(script.sha, len(keys), *keys, *args)


def connect_shards(specs: Sequence[HostSpec], prefix: str, buckets: int) -> list[Shard]:
    """Build this loop's clients and shards (no IO happens until first use)."""
    if specs[0].kind == "cluster":
        client = ShardClient(specs[0])
        return [Shard(client, f"{{{prefix}.{index}}}") for index in range(buckets)]
    return [Shard(ShardClient(spec), prefix) for spec in specs]


def shard_identities(specs: Sequence[HostSpec], buckets: int) -> list[str]:
    """Names to place on the hash ring, one per shard ``connect_shards`` builds."""
    if specs[0].kind == "cluster":
        return [f"bucket-{index}" for index in range(buckets)]
    return [spec.identity for spec in specs]
