"""``RedisChannelLayer``: lists in Redis, one atomic Lua script per operation.

This module is the API facade: it validates, routes and calls a script or a reader.
Where things live in Redis is ``_keys``; what the background readers pop, and what
becomes of it, is ``_reader.ReadPolicy``; ``send``/``group_send`` follow asgiref's
``SerializingChannelLayer`` template (validate, encode, then the script).

Payloads are ``self.serialize(message)`` (channels_redis' format: optional random
prefix, optional Fernet token, msgpack by default), so a subclass overriding
``serialize``/``deserialize`` is honoured.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from asgiref.layers import (
    DEFAULT_CHANNEL_PREFIX,
    CapacityPattern,
    ChannelFull,
    InvalidChannelLayerError,
    Serializer,
    SerializingChannelLayer,
    is_process_local,
    non_local_name,
    process_local_name,
    require_valid_channel_name,
    require_valid_group_name,
    split_process_local,
)

from ._buffers import ReceiveBuffers
from ._codec import Shared, decode, frame
from ._hosts import parse_hosts
from ._inbound import Inbound, Payload, Ready, now_ms
from ._keys import GROUP, channel_key, flush_pattern, group_keys, shard_base
from ._keys import key as layout_key
from ._loopstate import LoopState
from ._reader import ReadPolicy
from ._registry import resolve_serializer
from ._ring import HashRing
from ._scripts import GROUP_ADD, GROUP_DISCARD, GROUP_SEND, SEND
from ._shards import Shard, connect_shards, shard_identities
from .exceptions import ChannelNotOwned

__all__ = ["RedisChannelLayer"]

logger = logging.getLogger("asgi_redis")


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidChannelLayerError(f"{name} must be a positive number, got {value!r}")
    return float(value)


class RedisChannelLayer(SerializingChannelLayer):
    """Channel layer on Redis lists, configured like channels_redis 4's ``RedisChannelLayer``."""

    extensions = ["groups", "flush"]

    def __init__(
        self,
        hosts: Sequence[Any] | None = None,
        prefix: str = "asgi",
        expiry: float = 60,
        group_expiry: float = 86400,
        capacity: int = 100,
        channel_capacity: Mapping[CapacityPattern, int] | None = None,
        symmetric_encryption_keys: Sequence[str | bytes] | None = None,
        random_prefix_length: int = 12,
        serializer_format: str | Serializer | None = "msgpack",
        serializer: str | Serializer | None = None,
        cluster_buckets: int = 16,
    ) -> None:
        super().__init__(
            expiry=_positive("expiry", expiry), capacity=capacity, channel_capacity=channel_capacity
        )
        self.group_expiry = _positive("group_expiry", group_expiry)
        if not isinstance(prefix, str) or not prefix or any(c in prefix for c in "{}*?[]"):
            raise InvalidChannelLayerError(
                f"prefix must be a non-empty str without braces or glob characters, got {prefix!r}"
            )
        if not isinstance(cluster_buckets, int) or not 1 <= cluster_buckets <= 16384:
            raise InvalidChannelLayerError(
                f"cluster_buckets must be an int from 1 to 16384, got {cluster_buckets!r}"
            )
        self.prefix = prefix
        self.hosts = parse_hosts(hosts)
        self.cluster_buckets = cluster_buckets
        self._serializer = resolve_serializer(
            serializer if serializer is not None else serializer_format,
            symmetric_encryption_keys,
            random_prefix_length,
            self.expiry,
        )
        self.client_prefix = secrets.token_hex(6)
        self._ring = HashRing(shard_identities(self.hosts, cluster_buckets))
        self._ttl = math.ceil(self.expiry) + 1
        self._group_ttl = math.ceil(self.group_expiry) + 1
        self._inbound = Inbound(self.get_capacity, self.expiry)
        self._reading = ReadPolicy(self._inbound, self._ttl, self._payload, self._share)
        #: Per-channel local buffers (channels_redis' ``receive_buffer``), see ``_buffers``.
        self.receive_buffer = ReceiveBuffers(self._inbound, self.expiry, self._open)
        #: This layer's state per event loop (channels_redis' ``_layers``). A state leaves
        #: when it closes (its loop shutting down, or ``close()``); states of loops closed
        #: without shutting down are dropped when the next state is made.
        self._layers: dict[asyncio.AbstractEventLoop, LoopState] = {}
        #: The layer a loop state reports as its ``channel_layer``: this one, or the
        #: pub/sub layer this one serves (``_pubsub``).
        self._facade: object = self
        self._route = lru_cache(maxsize=65536)(self._compute_route)
        # Only names that passed (a failing check raises, and is not remembered).
        self._owned = lru_cache(maxsize=65536)(self._check_owned)

    # Serialization (channels_redis' names; override both to change the wire format) --

    def serialize(self, message: dict[str, Any]) -> bytes:
        """Return the stored payload of *message* (see ``asgi_redis.serializers``)."""
        return self._serializer.serialize(message)

    def deserialize(self, data: bytes) -> Any:
        """Return the message in the payload *data*."""
        return self._serializer.deserialize(data)

    def _payload(self, payload: Payload) -> bytes:
        """The stored form of a buffered payload."""
        if isinstance(payload, Ready):
            return self.encode_message(payload.message)  # type: ignore[arg-type]
        if isinstance(payload, Shared):
            return payload.payload
        return payload

    def _open(self, payload: Payload, channel: str) -> dict[str, Any]:
        """The message of a buffered payload of *channel*."""
        if isinstance(payload, Shared):
            return payload.open(channel)
        if isinstance(payload, Ready):
            return payload.message  # type: ignore[return-value]  # put there as it is
        return decode(self.deserialize, payload, channel)

    def _share(self, payload: bytes) -> Shared:
        """*payload* as several channels' message (see ``Shared``)."""
        split = None
        if type(self).deserialize is RedisChannelLayer.deserialize:
            split = self._serializer.split()
        return Shared(payload, split, self.deserialize)

    # Routing ----------------------------------------------------------------------

    def _compute_route(self, channel: str) -> tuple[str, int, str]:
        """Return (routing name, shard index, list key) for *channel*."""
        routing = non_local_name(channel)
        index = self._ring.index_for(routing)
        base = shard_base(self.prefix, index, self.hosts[0].kind == "cluster")
        return routing, index, channel_key(base, routing)

    def _get_layer(self) -> LoopState:
        """This layer's state on the running loop, created on first use."""
        loop = asyncio.get_running_loop()
        state = self._layers.get(loop)
        if state is None or state.closed:
            for gone in [known for known in list(self._layers) if known.is_closed()]:
                del self._layers[gone]
            shards = connect_shards(self.hosts, self.prefix, self.cluster_buckets)
            state = LoopState(shards, self._facade, self._forget)
            self._layers[loop] = state
            state.start()
        return state

    def _forget(self, state: LoopState) -> None:
        for loop, known in list(self._layers.items()):
            if known is state:
                del self._layers[loop]

    # Shards, under channels_redis' names ------------------------------------------

    @property
    def ring_size(self) -> int:
        """How many shards (key spaces) channels are spread over."""
        return self._ring.size

    def consistent_hash(self, channel: str) -> int:
        """The index of the shard holding *channel*'s messages."""
        return self._route(channel)[1]

    def connection(self, index: int) -> Any:
        """The redis-py client of shard *index* on the running loop, for commands of your
        own (a health check, say). The layer owns it: it is closed with the loop's state."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.ring_size:
            raise ValueError(
                f"There are {self.ring_size} shards (0 to {self.ring_size - 1}); got {index!r}"
            )
        return self._get_layer().shards[index].redis

    # Sending ----------------------------------------------------------------------

    async def send_payload(self, channel: str, payload: bytes) -> None:
        """Push *payload* onto *channel*; raise ``ChannelFull`` if it holds ``capacity`` items."""
        routing, index, key = self._route(channel)
        state = self._get_layer()
        now = now_ms()
        capacity = self.get_capacity(channel)
        item = frame(now + int(self.expiry * 1000), channel, payload)
        # A normal channel's messages read ahead into this process still count.
        room = capacity if is_process_local(routing) else capacity - self._inbound.buffered(channel)
        pushed = await state.shards[index].run(SEND, (key,), (now, room, self._ttl, item))
        if not pushed:
            raise ChannelFull(f"Channel {channel!r} is full: it holds {capacity} messages")

    # Receiving --------------------------------------------------------------------

    async def receive(self, channel: str) -> dict[str, Any]:
        """Return the next message on *channel*, waiting for one.

        Cancelling this at any point loses nothing: the message stays buffered for
        the next ``receive()`` of the channel (see ``_inbound``).
        """
        routing, index, key = self._require_owned(channel)
        inbound = self._inbound
        loop = asyncio.get_running_loop()
        state = self._layers.get(loop)
        found = inbound.take_or_wait(channel, routing, loop)
        if not isinstance(found, asyncio.Future):
            if state is not None:  # read ahead already: keep the reader warm all the same
                self._warm(state, routing, index, key, start=False)
            return self._open(found[1], channel)
        while True:
            try:
                if state is None or state.closed:
                    state = self._get_layer()
                self._warm(state, routing, index, key, start=True)
                await found
            except BaseException:
                if inbound.abandon(channel, routing, found) == 0 and state is not None:
                    # Nobody waits any more: stop reading ahead, give back what was read.
                    reader = state.readers.get(routing)
                    if reader is not None:
                        reader.touch(linger=False)
                    state.nudge(routing)
                raise
            entry = inbound.settle_and_take(channel, routing)
            if entry is not None:
                return self._open(entry[1], channel)
            found = inbound.wait(channel, routing, loop)

    def _warm(self, state: LoopState, routing: str, index: int, key: str, start: bool) -> None:
        """A receive() came: its reader re-checks and keeps reading (see ``_reader``);
        with *start*, a reader is started if none runs."""
        reader = state.readers.get(routing)
        if reader is not None:
            reader.touch()
        elif start:
            step = self._reading.step_for(routing)
            state.ensure_reader(routing, state.shards[index], key, step, self._reading.rescue)

    def _require_owned(self, channel: str) -> tuple[str, int, str]:
        """Validate a name to receive on: a process-local one must be this instance's."""
        if type(channel) is str:
            return self._owned(channel)  # names are checked once, then remembered
        return self._check_owned(channel)

    def _check_owned(self, channel: str) -> tuple[str, int, str]:
        require_valid_channel_name(channel)
        route = self._route(channel)
        # Compared by value: the cached route may hold an equal but distinct string.
        routing = route[0]
        if is_process_local(routing) and split_process_local(routing)[0] != self.client_prefix:
            raise ChannelNotOwned(
                f"Channel {channel!r} is process-local to another layer instance; "
                f"this one only receives on names from its new_channel() "
                f"(ending in '.{self.client_prefix}!...')"
            )
        return route

    async def new_channel(self, prefix: str = DEFAULT_CHANNEL_PREFIX) -> str:
        """Return a new process-local channel name that this instance receives on."""
        return process_local_name(prefix, self.client_prefix)

    # Groups -----------------------------------------------------------------------

    def _group_keys(self, shard: Shard, group: str) -> tuple[str, str]:
        return group_keys(shard.base, group)

    def _group_key(self, group: str) -> bytes:
        """The key of *group*'s member set on a shard, as channels_redis named it
        (in a Cluster each bucket keeps its own, under the bucket's hash tag)."""
        return layout_key(self.prefix, GROUP, group).encode()

    async def group_add(self, group: str, channel: str) -> None:
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        _, index, _ = self._route(channel)
        state = self._get_layer()
        shard = state.shards[index]
        now = now_ms()
        cutoff = now - int(self.group_expiry * 1000)
        capacity = self.get_capacity(channel)
        await shard.run(
            GROUP_ADD,
            self._group_keys(shard, group),
            (now, cutoff, channel, capacity, self._group_ttl),
        )

    async def group_discard(self, group: str, channel: str) -> None:
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        _, index, _ = self._route(channel)
        state = self._get_layer()
        shard = state.shards[index]
        await shard.run(GROUP_DISCARD, self._group_keys(shard, group), (channel,))

    async def group_send_payload(self, group: str, payload: bytes) -> None:
        """Send *payload* to every member: one script per shard, none per member."""
        state = self._get_layer()
        now = now_ms()
        args = (
            now,
            now - int(self.group_expiry * 1000),
            b"%013d" % (now + int(self.expiry * 1000)),
            payload,
        )
        calls = [
            shard.run(GROUP_SEND, self._group_keys(shard, group), (*args, shard.base, self._ttl))
            for shard in state.shards
        ]
        if len(calls) > 1:
            # Every shard's call ends before group_send does: a failure in one must not
            # leave the others running on connections that close() has closed.
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
            results: list[Any] = list(outcomes)
        else:
            results = [await calls[0]]
        skipped = sum(int(result[0]) for result in results)
        if skipped:
            members = sum(int(result[1]) for result in results)
            logger.info("%s of %s channels over capacity in group %s", skipped, members, group)

    # Administration ---------------------------------------------------------------

    async def flush(self) -> None:
        """Delete every key of this prefix on every shard, and the local buffers."""
        state = self._get_layer()
        pattern = flush_pattern(self.prefix, self.hosts[0].kind == "cluster")
        for client in state.clients:
            batch: list[bytes] = []
            async for key in client.redis.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 500:
                    await client.redis.unlink(*batch)
                    batch = []
            if batch:
                await client.redis.unlink(*batch)
        self._inbound.clear()

    async def close(self) -> None:
        """Close this loop's connections; messages read ahead for normal channels go back."""
        loop = asyncio.get_running_loop()
        state = self._layers.pop(loop, None)
        if state is None:
            return
        # Readers nobody waits on finish their pop and give read-ahead messages back.
        readers = [r for r in state.readers.values() if self._inbound.interest(r.routing) == 0]
        for reader in readers:
            reader.touch(linger=False)
            state.nudge(reader.routing)
        tasks = [reader.task for reader in readers if reader.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=1)
        await state.aclose()
        # A receive still waiting had its reader stopped: it starts a new one.
        self._inbound.wake_loop(loop)

    async def close_pools(self) -> None:
        """Close this loop's connections (channels_redis' name for :meth:`close`);
        the layer stays usable and reconnects on next use."""
        await self.close()

    def __repr__(self) -> str:
        hosts = ", ".join(spec.identity for spec in self.hosts)
        return f"<{type(self).__name__} prefix={self.prefix!r} hosts=[{hosts}]>"
