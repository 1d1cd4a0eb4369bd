"""Redis clients for one event loop, and the shards (key spaces) built on them.

A standalone or Sentinel host is one shard. A Redis Cluster is split into
``cluster_buckets`` shards that share one cluster client: every key of a bucket
carries the same hash tag, so each Lua script only touches keys of one slot.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeout

from ._hosts import HostSpec
from ._keys import bucket_base
from ._scripts import LuaScript

__all__ = ["BlockingSentinelPool", "Lease", "Shard", "ShardClient", "connect_shards", "read_reply"]

#: Used for a reply when the connection's options set no socket_timeout.
_DEFAULT_REPLY_TIMEOUT = 5.0

if sys.version_info >= (3, 11):

    async def _read(connection: AbstractConnection, timeout: float) -> Any:
        async with asyncio.timeout(timeout):
            return await connection.read_response(timeout=math.inf, disconnect_on_error=False)

else:  # pragma: no cover - Python 3.10

    async def _read(connection: AbstractConnection, timeout: float) -> Any:
        return await asyncio.wait_for(
            connection.read_response(timeout=math.inf, disconnect_on_error=False), timeout
        )


async def read_reply(
    connection: AbstractConnection, timeout: float, *, keep_on_cancel: bool = False
) -> Any:
    """Read one reply. A timeout or a broken stream drops the connection and raises.

    redis-py's own ``read_response(timeout=...)`` returns None on timeout and keeps
    the connection, whose late reply would then answer the next command. With
    *keep_on_cancel*, a cancelled read leaves the connection as it is, so the caller
    can still read the reply (the parser resumes where it stopped).
    """
    try:
        return await _read(connection, timeout)
    except ResponseError:
        raise  # a whole reply was read: the stream is in step
    except asyncio.CancelledError:
        if not keep_on_cancel:
            await connection.disconnect(nowait=True)
        raise
    except BaseException:
        await connection.disconnect(nowait=True)
        raise


async def _closed_by_server(connection: AbstractConnection) -> bool:
    """Whether the server closed *connection* (or left unread data on it) since its last
    reply; checked before a command is written, when resending is still safe."""
    if not connection.is_connected:
        return False  # connects on the next command
    # can_read() since redis-py 8, where can_read_destructive() is deprecated.
    check = getattr(connection, "can_read", None) or connection.can_read_destructive
    try:
        return bool(await check())
    except (RedisConnectionError, OSError):
        return True


def _direct(connection: AbstractConnection) -> tuple[float | None, float]:
    """Make writes on *connection* skip the per-write timeout task.

    With a ``socket_timeout`` set, redis-py wraps every write in ``asyncio.wait_for``,
    which (before Python 3.12) creates a task per command. Writes to a local socket
    buffer do not block; replies are read with :func:`read_reply` and a timeout.
    Returns the connection's own ``socket_timeout`` (to restore when it goes back to
    its pool) and the timeout to read replies with.
    """
    saved = connection.socket_timeout
    connection.socket_timeout = None
    return saved, float(saved) if saved else _DEFAULT_REPLY_TIMEOUT


def _restore(connection: AbstractConnection, saved: float | None) -> None:
    connection.socket_timeout = saved


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):  # type: ignore[misc]
    """The Sentinel master's pool, waiting for a free connection like the other topologies'.

    redis-py's Sentinel pool fails at once with "Too many connections" when every connection
    is checked out; a burst (readers of many channels, a flush behind them) then fails on
    Sentinel where it waits on a single server. Same limits: ``max_connections`` and
    ``timeout`` as ``BlockingConnectionPool`` reads them.
    """


@dataclass
class Lease:
    """A connection pinned to one blocking reader, with its server-side client id."""

    connection: AbstractConnection
    client_id: int
    node: ClusterNode | None
    #: The connection's own socket_timeout, restored when it goes back to its pool.
    socket_timeout: float | None = None


class _Lane:
    """One pooled connection kept checked out for commands that find it free.

    Uncontended commands (a consumer's send after send) skip the pool's checkout and
    the per-write timeout task; concurrent ones use the pool as before.
    """

    __slots__ = ("busy", "connection", "saved_timeout", "timeout")

    def __init__(self) -> None:
        self.busy = False
        self.connection: AbstractConnection | None = None
        self.saved_timeout: float | None = None
        self.timeout = _DEFAULT_REPLY_TIMEOUT


class ShardClient:
    """The redis-py client (and what it owns) for one host on one loop."""

    def __init__(self, spec: HostSpec) -> None:
        self.spec = spec
        self.cluster = spec.kind == "cluster"
        self._sentinel: Sentinel | None = None
        self._pool: ConnectionPool | None = None
        self.redis: Any = self._build(spec)
        #: Set by aclose(); calls under way then close the client again when they end.
        self.closed = False
        self._calls = 0
        # Plain hosts only: Sentinel connections re-resolve the master, clusters route.
        self._lane: _Lane | None = _Lane() if spec.kind in ("url", "address") else None

    async def execute(self, *args: Any) -> Any:
        """Run one command, on the kept connection when it is free, else via the pool."""
        lane = self._lane
        if lane is None or lane.busy:
            return await self.redis.execute_command(*args)
        lane.busy = True
        try:
            connection = lane.connection
            if connection is None:
                assert self._pool is not None
                connection = await self._pool.get_connection()  # type: ignore[no-untyped-call]
                lane.saved_timeout, lane.timeout = _direct(connection)
                lane.connection = connection
            elif await _closed_by_server(connection):
                # Stale after a server restart, say: nothing was sent yet, so reconnect.
                await connection.disconnect()
            try:
                await connection.send_command(*args)
                return await read_reply(connection, lane.timeout)
            except (RedisConnectionError, RedisTimeout, OSError, asyncio.TimeoutError):
                # The command may have run before the reply was lost: sending it again
                # could deliver a message twice (delivery is at most once). Raise; the
                # next command reconnects.
                await connection.disconnect()
                raise
        finally:
            lane.busy = False

    def _build(self, spec: HostSpec) -> Any:
        options = dict(spec.options)
        # Retry connecting (a server restarting refuses connections for a moment), never
        # a command whose reply was lost: it may have run (delivery is at most once). A
        # pooled connection the server closed meanwhile is replaced when checked out.
        options.setdefault(
            "retry",
            Retry(
                ExponentialBackoff(cap=1.0, base=0.05),
                3,
                supported_errors=(ConnectionRefusedError,),
            ),
        )
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
            client = self._sentinel.master_for(
                str(spec.master_name), connection_pool_class=BlockingSentinelPool
            )
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
        saved, timeout = _direct(connection)
        lease = Lease(connection, 0, node, saved)
        try:
            await connection.send_command("CLIENT", "ID")
            lease.client_id = int(await read_reply(connection, timeout))
        except BaseException:
            await self.release(lease, broken=True)
            raise
        return lease

    async def release(self, lease: Lease, broken: bool = False) -> None:
        _restore(lease.connection, lease.socket_timeout)
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

    @asynccontextmanager
    async def in_use(self) -> AsyncIterator[None]:
        """Mark a call under way on this client.

        redis-py reconnects a closed client on its next command (a cluster client even
        runs its discovery again), so a call that raced ``aclose()`` would leave open
        connections nobody closes: new calls are refused, and the last call that was
        already under way closes the client again as it ends (closing is idempotent).
        """
        if self.closed:
            raise RedisConnectionError(
                "This layer's Redis connections on this event loop were closed by close() "
                "while the call was under way; call again to reconnect"
            )
        self._calls += 1
        try:
            yield
        finally:
            self._calls -= 1
            if self.closed and not self._calls:
                await self._close_redis()

    async def aclose(self) -> None:
        self.closed = True
        await self._close_redis()

    async def _close_redis(self) -> None:
        lane, self._lane = self._lane, None
        if lane is not None and lane.connection is not None and self._pool is not None:
            _restore(lane.connection, lane.saved_timeout)
            await self._pool.release(lane.connection)
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

    async def run(self, script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run *script* by its SHA, loading it first if the server does not know it.

        The server forgets scripts when it restarts, so NOSCRIPT can happen at any time.
        """
        client = self.client
        async with client.in_use():
            try:
                return await client.execute("EVALSHA", script.sha, len(keys), *keys, *args)
            except NoScriptError:
                if client.cluster:
                    node = self.redis.get_node_from_key(keys[0])
                    await self.redis.execute_command(
                        "SCRIPT LOAD", script.source, target_nodes=node
                    )
                else:
                    await self.redis.script_load(script.source)
                return await client.execute("EVALSHA", script.sha, len(keys), *keys, *args)

    async def publish(self, topic: str, item: bytes) -> None:
        """PUBLISH *item* to *topic* (see :meth:`ShardClient.in_use`)."""
        async with self.client.in_use():
            await self.redis.publish(topic, item)


def connect_shards(specs: Sequence[HostSpec], prefix: str, buckets: int) -> list[Shard]:
    """Build this loop's clients and shards (no IO happens until first use)."""
    if specs[0].kind == "cluster":
        client = ShardClient(specs[0])
        return [Shard(client, bucket_base(prefix, index)) for index in range(buckets)]
    return [Shard(ShardClient(spec), prefix) for spec in specs]


def shard_identities(specs: Sequence[HostSpec], buckets: int) -> list[str]:
    """Names to place on the hash ring, one per shard ``connect_shards`` builds."""
    if specs[0].kind == "cluster":
        return [f"bucket-{index}" for index in range(buckets)]
    return [spec.identity for spec in specs]
