"""``RedisPubSubChannelLayer``: Redis pub/sub for process-local channels and groups.

* A process-local channel (``new_channel()``) is delivered by PUBLISH to the
  owning instance's inbox topic: no polling, no list, lowest latency. Nobody
  stores it: a message to an instance that is gone (or disconnected) is lost.
* A group is a topic; ``group_add`` subscribes this instance and remembers the
  member locally (membership is per instance, as upstream). ``group_send`` is one
  PUBLISH whatever the number of members.
* Normal channels (no ``!``) keep single-reader semantics (upstream #299 gave
  every subscriber a copy): a ``RedisChannelLayer`` of the same configuration, held
  by the pub/sub layer (composition: as in channels_redis, the pub/sub layer is not
  a subclass of the list layer), serves them, so each message goes to exactly one
  receiver. It also keeps the per-loop connections and the local buffers, which
  the pub/sub side shares.

Lost connections are retried with backoff; ``on_disconnect`` and
``on_reconnect`` callbacks (sync or async) tell the application, since messages
published while disconnected are gone.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import weakref
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from asgiref.layers import (
    DEFAULT_CHANNEL_PREFIX,
    InvalidChannelLayerError,
    Serializer,
    SerializingChannelLayer,
    is_process_local,
    require_valid_channel_name,
    require_valid_group_name,
)
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from ._codec import Shared, frame, unframe
from ._core import RedisChannelLayer
from ._inbound import now_ms
from ._keys import group_of_topic, group_topic, inbox_topic
from ._loopstate import LoopState
from ._shards import Shard

__all__ = ["RedisPubSubChannelLayer"]

logger = logging.getLogger("asgi_redis")

Callback = Callable[[], Any]


def _surface_failures(pubsub: Any) -> None:
    # redis-py would silently reconnect and resubscribe, hiding that messages were
    # lost meanwhile; failing instead lets the layer tell the application.
    if pubsub.connection is not None:
        pubsub.connection.retry = Retry(NoBackoff(), 0)


class _Subscriber:
    """One pub/sub connection to one shard, re-established after failures."""

    def __init__(self, layer: RedisPubSubChannelLayer, shard: Shard, state: LoopState) -> None:
        self.layer = layer
        self.shard = shard
        self.topics: dict[str, asyncio.Event] = {}
        self.pubsub: Any = None
        self._own_client: Redis | None = None
        self.task = state.spawn(self._run(), f"asgi_redis pubsub {shard.base}", detached=True)

    @property
    def _redis(self) -> Any:
        """The shard's client (channels_redis' name); its pool serves this subscription."""
        return self.shard.redis

    async def subscribe(self, topic: str) -> None:
        """Subscribe to *topic* and wait until the server confirmed it."""
        event = self.topics.get(topic)
        if event is None:
            event = self.topics[topic] = asyncio.Event()
            if self.pubsub is not None:
                await self.pubsub.subscribe(topic)
                _surface_failures(self.pubsub)
        if not event.is_set():
            # Not wait_for(): on 3.11 it can swallow a cancellation that races completion.
            await event.wait()

    async def unsubscribe(self, topic: str) -> None:
        if self.topics.pop(topic, None) is not None and self.pubsub is not None:
            await self.pubsub.unsubscribe(topic)

    async def _connect(self) -> Any:
        redis = self.shard.redis
        if self.shard.client.cluster:
            # Cluster PUBLISH reaches every node; subscribe on one of them.
            await redis.initialize()
            node = redis.get_nodes()[0]
            self._own_client = Redis(host=node.host, port=node.port)
            redis = self._own_client
        pubsub = redis.pubsub()
        for event in self.topics.values():
            event.clear()
        if self.topics:
            await pubsub.subscribe(*self.topics)
            _surface_failures(pubsub)
        return pubsub

    async def _run(self) -> None:
        backoff = 0.05
        disconnected = False
        try:
            while True:
                try:
                    self.pubsub = await self._connect()
                    if disconnected:
                        await self.layer._notify(self.layer.on_reconnect)
                        disconnected = False
                    backoff = 0.05
                    await self._listen()
                except Exception as exc:
                    if not disconnected:
                        logger.warning("Pub/sub connection lost (%r); reconnecting", exc)
                        disconnected = True
                        await self.layer._notify(self.layer.on_disconnect)
                    await self._drop()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 2.0)
        except GeneratorExit:
            raise  # its loop was closed without shutting down: nothing can be awaited
        except BaseException:
            await asyncio.shield(self._drop())
            raise

    async def _listen(self) -> None:
        while True:
            message = await self.pubsub.get_message(timeout=None)
            if message is None:
                continue
            kind = message["type"]
            topic = message["channel"].decode()
            if kind == "subscribe":
                event = self.topics.get(topic)
                if event is not None:
                    event.set()
            elif kind == "message":
                self.layer._on_published(topic, message["data"])

    async def _drop(self) -> None:
        pubsub, self.pubsub = self.pubsub, None
        client, self._own_client = self._own_client, None
        try:
            if pubsub is not None:
                await pubsub.aclose()
            if client is not None:
                await client.aclose()
        except Exception as exc:
            logger.debug("Closing a pub/sub connection failed: %r", exc)


class _Lists(RedisChannelLayer):
    """The list layer serving a pub/sub layer's normal channels, in its owner's format.

    Payloads go through the owner's ``serialize``/``deserialize``, so a subclass of
    the pub/sub layer that overrides them is honoured on every channel.
    """

    def __init__(self, owner: RedisPubSubChannelLayer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owner = owner
        self._facade = owner

    def serialize(self, message: dict[str, Any]) -> bytes:
        return self._owner.serialize(message)

    def deserialize(self, data: bytes) -> Any:
        return self._owner.deserialize(data)

    def _share(self, payload: bytes) -> Shared:
        split = None
        if type(self._owner).deserialize is RedisPubSubChannelLayer.deserialize:
            split = self._owner._serializer.split()
        return Shared(payload, split, self.deserialize)


class RedisPubSubChannelLayer(SerializingChannelLayer):
    """Pub/sub channel layer, configured like channels_redis 4's ``RedisPubSubChannelLayer``.

    Attributes of the list layer it holds (``hosts``, ``client_prefix``,
    ``receive_buffer``, ``ring_size``, ``connection()``, ...) are read through it.
    """

    extensions = ["groups", "flush"]

    def __init__(
        self,
        hosts: Sequence[Any] | None = None,
        prefix: str = "asgi",
        expiry: float = 60,
        capacity: int = 100,
        symmetric_encryption_keys: Sequence[str | bytes] | None = None,
        serializer_format: str | Serializer | None = "msgpack",
        serializer: str | Serializer | None = None,
        random_prefix_length: int = 0,
        on_disconnect: Callback | None = None,
        on_reconnect: Callback | None = None,
        **kwargs: Any,
    ) -> None:
        for name, callback in (("on_disconnect", on_disconnect), ("on_reconnect", on_reconnect)):
            if callback is not None and not callable(callback):
                raise InvalidChannelLayerError(f"{name} must be callable, got {callback!r}")
        self._lists = _Lists(
            self, hosts=hosts, prefix=prefix, expiry=expiry, capacity=capacity,
            symmetric_encryption_keys=symmetric_encryption_keys,
            serializer_format=serializer_format, serializer=serializer,
            random_prefix_length=random_prefix_length, **kwargs,
        )  # fmt: skip
        lists = self._lists
        super().__init__(lists.expiry, lists.capacity)
        self.channel_capacity = lists.channel_capacity
        self.prefix = lists.prefix
        self._serializer = lists._serializer
        self.on_disconnect = on_disconnect
        self.on_reconnect = on_reconnect
        self._inbox_topics = lru_cache(maxsize=1024)(self._inbox_topic)
        # group -> local member channels; a group topic is subscribed while non-empty.
        self._members: dict[str, set[str]] = {}
        self._subscribers: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[int, _Subscriber]
        ] = weakref.WeakKeyDictionary()

    def __getattr__(self, name: str) -> Any:
        # Only for names this class does not have: the list layer's attributes.
        if name.startswith("__") or name == "_lists":
            raise AttributeError(name)
        return getattr(self._lists, name)

    def __repr__(self) -> str:
        hosts = ", ".join(spec.identity for spec in self._lists.hosts)
        return f"<{type(self).__name__} prefix={self.prefix!r} hosts=[{hosts}]>"

    # Serialization (channels_redis' names; override both to change the wire format) --

    def serialize(self, message: dict[str, Any]) -> bytes:
        """Return the published payload of *message* (see ``asgi_redis.serializers``)."""
        return self._serializer.serialize(message)

    def deserialize(self, data: bytes) -> Any:
        """Return the message in the payload *data*."""
        return self._serializer.deserialize(data)

    def get_capacity(self, channel: str) -> int:
        return self._lists.get_capacity(channel)

    # Topics and subscriptions --------------------------------------------------------

    def _get_layer(self) -> LoopState:
        """This layer's state on the running loop (its ``channel_layer`` is this layer)."""
        return self._lists._get_layer()

    def _inbox(self, routing: str) -> tuple[int, str]:
        """``_inbox_topic``, remembered per routing key (``__init__``)."""
        return self._inbox_topics(routing)

    def _inbox_topic(self, routing: str) -> tuple[int, str]:
        return self._lists._ring.index_for(routing), inbox_topic(self.prefix, routing)

    def _group_topic(self, group: str) -> tuple[int, str]:
        return self._lists._ring.index_for(group), group_topic(self.prefix, group)

    def _subscriber(self, index: int) -> _Subscriber:
        state = self._get_layer()
        loop = asyncio.get_running_loop()
        mine = self._subscribers.get(loop)
        if mine is None:
            mine = self._subscribers[loop] = {}
        subscriber = mine.get(index)
        if subscriber is None or subscriber.task.done():
            subscriber = mine[index] = _Subscriber(self, state.shards[index], state)
        return subscriber

    @property
    def _shards(self) -> list[_Subscriber]:
        """This loop's subscription per shard (channels_redis' per-shard connections)."""
        return [self._subscriber(index) for index in range(self._lists._ring.size)]

    async def _notify(self, callback: Callback | None) -> None:
        if callback is None:
            return
        try:
            result = callback()
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("The pub/sub layer's %r callback failed", callback)

    def _on_published(self, topic: str, data: bytes) -> None:
        try:
            deadline, channels, payload = unframe(data)
        except ValueError as exc:
            logger.error("Dropped an unreadable message from topic %r: %s", topic, exc)
            return
        group = group_of_topic(self.prefix, topic)
        if group is not None:
            channels = sorted(self._members.get(group, ()))
        lists = self._lists
        route = lists._route
        if len(channels) == 1:
            lists._inbound.push(channels[0], route(channels[0])[0], deadline, payload)
        else:  # a group's members here: one unwrap, one decode each (see ``Shared``)
            targets = [(channel, route(channel)[0]) for channel in channels]
            lists._inbound.push_many(targets, deadline, lists._share(payload))

    # The interface ------------------------------------------------------------------

    async def new_channel(self, prefix: str = DEFAULT_CHANNEL_PREFIX) -> str:
        channel = await self._lists.new_channel(prefix)
        index, topic = self._inbox_topic(self._lists._route(channel)[0])
        await self._subscriber(index).subscribe(topic)
        return channel

    async def send_payload(self, channel: str, payload: bytes) -> None:
        lists = self._lists
        if not is_process_local(channel):
            return await lists.send_payload(channel, payload)
        index, topic = self._inbox_topic(lists._route(channel)[0])
        state = self._get_layer()
        item = frame(now_ms() + int(self.expiry * 1000), channel, payload)
        await state.shards[index].publish(topic, item)

    async def receive(self, channel: str) -> dict[str, Any]:
        lists = self._lists
        routing = lists._require_owned(channel)[0]  # validates the name (remembered)
        if not is_process_local(routing):
            return await lists.receive(channel)
        index, topic = self._inbox(routing)
        mine = self._subscribers.get(asyncio.get_running_loop())
        subscriber = mine.get(index) if mine is not None else None
        if subscriber is None or subscriber.task.done():
            subscriber = self._subscriber(index)
        confirmed = subscriber.topics.get(topic)
        if confirmed is None or not confirmed.is_set():
            await subscriber.subscribe(topic)
        inbound = lists._inbound
        found = inbound.take_or_wait(channel, channel, asyncio.get_running_loop())
        while isinstance(found, asyncio.Future):
            if subscriber.task.done():
                inbound.abandon(channel, channel, found)
                # close() ended the subscription (and woke us): what is published until
                # a new one is confirmed is lost, so waiting on would be waiting blind.
                raise RedisConnectionError(
                    f"close() ended the subscription that receive({channel!r}) waited on; "
                    "messages published meanwhile are lost: call receive() again to resubscribe"
                )
            try:
                await found
            except BaseException:
                inbound.abandon(channel, channel, found)
                raise
            entry = inbound.settle_and_take(channel, channel)
            if entry is not None:
                return lists._open(entry[1], channel)
            found = inbound.wait(channel, channel)
        return lists._open(found[1], channel)

    async def group_add(self, group: str, channel: str) -> None:
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        self._members.setdefault(group, set()).add(channel)
        index, topic = self._group_topic(group)
        await self._subscriber(index).subscribe(topic)

    async def group_discard(self, group: str, channel: str) -> None:
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        members = self._members.get(group)
        if members is None:
            return
        members.discard(channel)
        if not members:
            del self._members[group]
            index, topic = self._group_topic(group)
            await self._subscriber(index).unsubscribe(topic)

    async def group_send_payload(self, group: str, payload: bytes) -> None:
        index, topic = self._group_topic(group)
        state = self._get_layer()
        item = frame(now_ms() + int(self.expiry * 1000), "", payload)
        await state.shards[index].publish(topic, item)

    async def flush(self) -> None:
        await self._lists.flush()
        mine = self._subscribers.get(asyncio.get_running_loop(), {})
        for index, subscriber in list(mine.items()):
            for group in list(self._members):
                group_index, topic = self._group_topic(group)
                if group_index == index:
                    await subscriber.unsubscribe(topic)
        self._members.clear()

    async def close(self) -> None:
        mine = self._subscribers.pop(asyncio.get_running_loop(), {})
        for subscriber in mine.values():
            subscriber.task.cancel()
        await asyncio.gather(*(s.task for s in mine.values()), return_exceptions=True)
        await self._lists.close()

    async def close_pools(self) -> None:
        """Close this loop's connections (channels_redis' name for :meth:`close`)."""
        await self.close()
