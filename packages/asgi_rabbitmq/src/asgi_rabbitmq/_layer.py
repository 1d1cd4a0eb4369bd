"""RabbitmqChannelLayer: the channel-layer interface over RabbitMQ.

Topology (names under the configurable ``prefix``, default ``"asgi"``):

* ``<prefix>.proc.<client id>``: one queue per layer instance holding all of
  its process-local (``!``) channels; the layer demultiplexes it into local
  buffers. Bounded by ``remote_capacity`` with ``reject-publish``.
* ``<prefix>.chan.<channel>``: one shared work queue per normal channel;
  competing receivers (``runworker`` processes) each get distinct messages.
* ``<prefix>.groups``: a direct exchange; a queue bound with routing key
  ``<group>`` gets one copy of each ``group_send``, which its owner fans out to
  its local members.

The queues are not ``exclusive``: a layer used from several event loops (its
own connection on each) must reach its process queue from all of them, and
``async_to_sync`` opens a new loop per call. They carry ``x-expires`` instead,
so the broker deletes them once no process has used them for a while.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any

from asgiref.layers import (
    DEFAULT_CHANNEL_PREFIX,
    CapacityPattern,
    ChannelFull,
    InvalidChannelLayerError,
    SerializingChannelLayer,
    get_serializer,
    is_process_local,
    process_local_name,
    require_valid_channel_name,
    require_valid_group_name,
    split_process_local,
)

from ._config import DEFAULT_HOST, build_config
from ._envelope import Kind, MalformedEnvelope, decode, encode
from ._errors import BrokerUnavailable, ChannelNotOwned
from ._groups import GroupRegistry
from ._inbox import Entry, Inbox
from ._link import Link, PublishOutcome
from ._owner import Acker

__all__ = ["RabbitmqChannelLayer"]

logger = logging.getLogger("asgi_rabbitmq")

#: How often a receive served by another loop's consumer checks that loop is alive.
_OWNER_CHECK_SECONDS = 1.0
#: Links in a row that may end while being opened before a call gives up.
_LINK_ATTEMPTS = 3


def _owner_of(channel: str) -> str:
    """The client id owning process-local *channel* (the segment before ``!``).

    For names this layer did not make (``"abc!x"``) it is still some segment: it names
    a queue that does not exist, and messages to it are lost, as for any channel
    nobody reads.
    """
    return split_process_local(channel)[0]


class RabbitmqChannelLayer(SerializingChannelLayer):
    """A channel layer on RabbitMQ (``asgi_rabbitmq.core.RabbitmqChannelLayer``).

    ``capacity``/``channel_capacity`` bound normal channels on the broker and
    default ``local_capacity`` (each process-local channel's buffer here) and
    ``remote_capacity`` (the process queue on the broker). ``expiry`` is the
    broker message TTL and defaults ``local_expiry``.
    """

    extensions = ["groups", "flush"]

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        ssl_context: ssl.SSLContext | None = None,
        *,
        prefix: str = "asgi",
        expiry: float = 60,
        local_expiry: float | None = None,
        group_expiry: float | None = 86400,
        capacity: int = 100,
        channel_capacity: Mapping[CapacityPattern, int] | None = None,
        local_capacity: int | None = None,
        remote_capacity: int | None = None,
        prefetch_count: int = 10,
        connect_timeout: float = 10,
        serializer: Any = None,
        groups_exchange: str | None = None,
    ) -> None:
        super().__init__(expiry=expiry, capacity=capacity, channel_capacity=channel_capacity)
        self.config = build_config(
            host=host,
            ssl_context=ssl_context,
            prefix=prefix,
            expiry=expiry,
            local_expiry=local_expiry,
            group_expiry=group_expiry,
            capacity=capacity,
            channel_capacity=channel_capacity,
            local_capacity=local_capacity,
            remote_capacity=remote_capacity,
            prefetch_count=prefetch_count,
            connect_timeout=connect_timeout,
            groups_exchange=groups_exchange,
        )
        self.serializer = get_serializer(serializer)
        # 16 hex digits: no "." or "!", so names of any prefix give it back.
        self.client_id = secrets.token_hex(8)
        self.process_queue = self.config.process_queue(self.client_id)
        self.inbox = Inbox()
        self.groups = GroupRegistry(self.config.group_expiry)
        self._lock = threading.Lock()
        self._links: dict[asyncio.AbstractEventLoop, Link] = {}
        # The one link consuming the process queue (see _claim_process_queue).
        self._consumer_link: Link | None = None
        self._bound: set[str] = set()
        # Normal channels in groups are plain broker bindings; their expiry is
        # enforced by the layer that made them (see _expire_normal_bindings).
        self._normal_bindings = GroupRegistry(self.config.group_expiry, track_expired=True)
        self._normal_queues: set[str] = set()

    def __repr__(self) -> str:
        return f"<RabbitmqChannelLayer client={self.client_id} prefix={self.config.prefix!r}>"

    # Links ----------------------------------------------------------------------

    async def _link(self) -> Link:
        loop = asyncio.get_running_loop()
        link = self._links.get(loop)
        if link is not None and link.usable():
            return link
        for _ in range(_LINK_ATTEMPTS):
            if link is not None and link.broken():
                # Something cancelled its supervisor or a consumer channel died
                # under it. Closing it makes the broker requeue what it held
                # unacknowledged, so nothing buffered but not yet received is lost.
                logger.warning("Rebuilding the RabbitMQ link of %r: its tasks died", self)
                await link.close()
            if link is None or link.closed:
                link = self._replace_link(loop, link)
            if await link.start() and await link.ready():
                return link
            link = self._links.get(loop)
        raise BrokerUnavailable(
            f"Expected a lasting connection to RabbitMQ, but {_LINK_ATTEMPTS} links in a row "
            "ended while being opened (their tasks were cancelled)"
        )

    def _claim_process_queue(self, link: Link) -> bool:
        """Whether *link* is (now) the one consumer of the process queue.

        Two consumers on one queue would each get every other message and
        could buffer them out of order, breaking per-sender FIFO. So one loop
        consumes and receivers on other loops wait on the shared inbox; a loop
        that stopped or closed (async_to_sync closes one per call) hands over
        to the next loop that receives.
        """
        with self._lock:
            owner = self._consumer_link
            if owner is link:
                return True
            if owner is None or owner.closed or not owner.loop.is_running():
                self._consumer_link = link
                return True
            return False

    def _replace_link(self, loop: asyncio.AbstractEventLoop, stale: Link | None) -> Link:
        with self._lock:
            # Loops closed without close() (async_to_sync does that) leave
            # links behind; their sockets died with the loop.
            for old in [other for other in self._links if other.is_closed()]:
                del self._links[old]
            current = self._links.get(loop)
            if current is None or current is stale:
                # A link whose first connection failed is replaced, so the
                # next call tries again instead of repeating the old error.
                current = self._links[loop] = Link(self, loop)
            return current

    # Bookkeeping the links read while (re)connecting ---------------------------

    def own_groups(self) -> list[str]:
        """Groups to re-bind after a reconnection; the broker has no binding of ours left."""
        groups = self.groups.groups()
        # Groups whose members all expired are forgotten too: remembering them
        # as bound would make a later group_add skip the bind it needs.
        self._bound = set(groups)
        return groups

    def normal_bindings(self) -> list[tuple[str, str]]:
        """The (group, channel) bindings this layer holds for normal (non-local) channels."""
        return self._normal_bindings.pairs()

    def remember_normal_queue(self, name: str) -> None:
        """Record that this layer declared the queue of normal channel *name*."""
        self._normal_queues.add(name)

    def mismatch_error(self, channel: str, exc: Exception) -> InvalidChannelLayerError:
        """The error for a broker queue declared with other capacity or expiry arguments."""
        return InvalidChannelLayerError(
            f"The broker already has a queue for channel {channel!r} with other arguments "
            f"(capacity {self.get_capacity(channel)}, expiry {self.config.expiry:g}s expected): "
            f"{exc}. Every process must use the same capacity and expiry settings."
        )

    def _owns(self, channel: str) -> bool:
        return is_process_local(channel) and _owner_of(channel) == self.client_id

    # Incoming messages (called on whichever loop consumed them) ----------------

    def on_process_message(self, body: bytes) -> None:
        """Route a message from this process's queue to its local channel or group members."""
        try:
            envelope = decode(body)
        except MalformedEnvelope as exc:
            logger.error(
                "Dropped a message on %s that this layer did not frame: %s", self.process_queue, exc
            )
            return
        kind, name, payload = envelope
        if kind is Kind.DIRECT:
            self._buffer(name, payload)
        elif kind is Kind.GROUP:
            members = self.groups.members(name)
            deadline = self._local_deadline()
            full = [channel for channel in members if not self._put(channel, payload, deadline)]
            if full:  # one line per message, not one per member
                logger.warning(
                    "Dropped a message to group %r for %d member(s) with a full local buffer: %s",
                    name,
                    len(full),
                    ", ".join(full[:5]),
                )
        elif kind is Kind.JOIN:
            group = require_valid_group_name(payload.decode("ascii"))
            self.groups.add(group, require_valid_channel_name(name))
            self._bound.add(group)  # the joining process bound our queue already
        else:
            self.groups.discard(payload.decode("ascii"), name)

    def _buffer(self, channel: str, payload: bytes) -> None:
        if not self._put(channel, payload, self._local_deadline()):
            logger.warning("Dropped a message for %r: its local buffer is full", channel)

    def _put(self, channel: str, payload: bytes, deadline: float) -> bool:
        capacity = self.config.local_capacities.capacity_for(channel)
        return self.inbox.put(channel, Entry(payload, deadline), capacity)

    def _local_deadline(self) -> float:
        return time.monotonic() + self.config.local_expiry

    def on_normal_message(self, channel: str, body: bytes, acker: Acker) -> None:
        """Buffer a message delivered on a normal channel's queue until ``receive`` takes it."""
        release, alive = acker
        try:
            payload = decode(body).payload
        except MalformedEnvelope as exc:
            logger.error(
                "Dropped a message on channel %r that this layer did not frame: %s", channel, exc
            )
            release(False)
            return
        entry = Entry(payload, self._local_deadline(), release=release, alive=alive)
        # Prefetch is one per consumer, so this buffer never outgrows a handful.
        self.inbox.put(channel, entry, capacity=1 << 30)

    # The interface ----------------------------------------------------------------

    async def new_channel(self, prefix: str = DEFAULT_CHANNEL_PREFIX) -> str:
        name = process_local_name(prefix, self.client_id)
        # The process queue must exist before anyone sends to the new name, or
        # those messages would be unroutable until its first receive().
        link = await self._link()
        await link.ensure_process_queue()
        return name

    async def send_payload(self, channel: str, payload: bytes) -> None:
        if is_process_local(channel):
            await self._send_local(channel, payload)
        else:
            await self._send_normal(channel, payload)

    async def _send_local(self, channel: str, payload: bytes) -> None:
        if self._owns(channel):
            # Our own channel: the broker would only hand it straight back.
            if not self._put(channel, payload, self._local_deadline()):
                capacity = self.config.local_capacities.capacity_for(channel)
                raise ChannelFull(f"Channel {channel!r} is full ({capacity} messages buffered)")
            return
        link = await self._link()
        queue = self.config.process_queue(_owner_of(channel))
        outcome = await link.publish(queue, encode(Kind.DIRECT, channel, payload))
        if outcome is PublishOutcome.REJECTED:
            raise ChannelFull(
                f"Channel {channel!r} is full: its process queue holds "
                f"{self.config.remote_capacity} messages (remote_capacity)"
            )

    async def _send_normal(self, channel: str, payload: bytes) -> None:
        link = await self._link()
        await link.declare_normal(channel)
        queue = self.config.normal_queue(channel)
        body = encode(Kind.DIRECT, channel, payload)
        outcome = await link.publish(queue, body)
        if outcome is PublishOutcome.UNROUTABLE:
            # The queue expired (nobody used it for a long time) or was flushed.
            await link.declare_normal(channel, force=True)
            outcome = await link.publish(queue, body)
        if outcome is PublishOutcome.REJECTED:
            raise ChannelFull(
                f"Channel {channel!r} is full ({self.get_capacity(channel)} messages queued)"
            )

    async def receive(self, channel: str) -> dict[str, Any]:
        require_valid_channel_name(channel)
        if is_process_local(channel):
            if channel.endswith("!") or not self._owns(channel):
                raise ChannelNotOwned(
                    f"Cannot receive on {channel!r}: expected a full channel name returned by "
                    f"this layer's new_channel() (client {self.client_id}), got one that "
                    "belongs to another layer instance or ends at its '!'"
                )
            wait = self._wait_local
        else:
            wait = self._wait_normal
        while True:
            payload = await wait(channel)
            try:
                return self.serializer.deserialize(payload)
            except Exception as exc:  # a foreign or corrupt payload: skip it, keep serving
                logger.error("Dropped an undecodable message on %r: %s", channel, exc)

    async def _wait_normal(self, channel: str) -> bytes:
        while True:
            link = await self._link()
            await link.consumers.consume_normal(channel)
            # Should the link end meanwhile, its consumer is gone: go on with a new link.
            payload = await self.inbox.get(channel, until=link.ended)
            if payload is not None:
                return payload

    async def _wait_local(self, channel: str) -> bytes:
        while True:
            link = await self._link()
            if self._claim_process_queue(link):
                await link.consumers.consume_process_queue()
                payload = await self.inbox.get(channel, until=link.ended)
            else:
                # Another loop consumes for us; should it stop, take over.
                try:
                    payload = await asyncio.wait_for(self.inbox.get(channel), _OWNER_CHECK_SECONDS)
                except asyncio.TimeoutError:
                    payload = None
            if payload is not None:
                return payload

    # Groups ---------------------------------------------------------------------

    async def group_add(self, group: str, channel: str) -> None:
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        link = await self._link()
        if self._owns(channel):
            self.groups.add(group, channel)
            await self._reconcile(link, group)
        elif is_process_local(channel):
            queue = self.config.process_queue(_owner_of(channel))
            # The membership note goes first: the owner reads it before any
            # group message routed through the binding made right after.
            await link.publish(queue, encode(Kind.JOIN, channel, group.encode("ascii")))
            await link.bind(queue, group)
        else:
            await link.declare_normal(channel)
            self._normal_bindings.add(group, channel)
            await link.bind(self.config.normal_queue(channel), group)

    async def group_discard(self, group: str, channel: str) -> None:
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        link = await self._link()
        if self._owns(channel):
            self.groups.discard(group, channel)
            await self._reconcile(link, group)
        elif is_process_local(channel):
            # Only the owner knows whether other channels of its process are
            # still members, so it keeps its binding and filters locally.
            queue = self.config.process_queue(_owner_of(channel))
            await link.publish(queue, encode(Kind.LEAVE, channel, group.encode("ascii")))
        else:
            self._normal_bindings.discard(group, channel)
            await link.unbind(self.config.normal_queue(channel), group)

    async def _reconcile(self, link: Link, group: str) -> None:
        # Serialised per link so a discard's unbind cannot overtake an add's bind.
        async with link.bind_lock:
            wanted = self.groups.has_members(group)
            if wanted and group not in self._bound:
                await link.bind(self.process_queue, group)
                self._bound.add(group)
            elif not wanted and group in self._bound:
                await link.unbind(self.process_queue, group)
                self._bound.discard(group)

    async def _expire_normal_bindings(self, link: Link) -> None:
        for group, channel in self._normal_bindings.pop_expired():
            await link.unbind(self.config.normal_queue(channel), group)

    async def group_send_payload(self, group: str, payload: bytes) -> None:
        body = encode(Kind.GROUP, group, payload)
        link = await self._link()
        await self._expire_normal_bindings(link)
        # A full member queue nacks the publish; group_send drops silently for
        # full members, as the specification asks, so the outcome is ignored.
        await link.publish(group, body, group=True)

    # Housekeeping -----------------------------------------------------------------

    async def flush(self) -> None:
        """Empty this layer: its queue, the normal queues it declared, all group bindings."""
        link = await self._link()
        await link.consumers.stop_workers()
        exchange = self.config.groups_exchange
        await link.run_admin(lambda admin: admin.exchange_delete(exchange))
        for name in sorted(self._normal_queues):
            await link.run_admin(functools.partial(_delete_queue, name=name))
        self._normal_queues.clear()
        await link.run_admin(lambda admin: _purge(admin, self.process_queue))
        link.forget_declarations()
        await link.run_admin(lambda admin: admin.declare_exchange(exchange, "direct"))
        self.inbox.clear()
        self.groups.clear()
        self._bound.clear()
        self._normal_bindings.clear()

    async def close(self) -> None:
        """Close every link; links on other running loops are closed on their loop.

        The process queue goes too: its channels end with the layer. Left
        alone it would linger until ``x-expires``, still collecting group
        messages. The layer can be used again; it then declares a new queue.
        """
        current = asyncio.get_running_loop()
        with self._lock:
            links, self._links = list(self._links.values()), {}
            self._consumer_link = None
        mine = next((link for link in links if link.loop is current and link.connected), None)
        if mine is not None:
            # Our own consumers go first, or the broker would cancel them and
            # they would re-create the queue being deleted.
            await mine.consumers.stop()
            await mine.run_admin(functools.partial(_delete_queue, name=self.process_queue))
            mine.forget_declarations()
        for link in links:
            if link.loop is current:
                await link.close()
            elif link.loop.is_running():
                future = asyncio.run_coroutine_threadsafe(link.close(), link.loop)
                await asyncio.wrap_future(future)


async def _delete_queue(admin: Any, name: str) -> None:
    await admin.queue_delete(name)


async def _purge(admin: Any, name: str) -> None:
    queue = await admin.get_queue(name, ensure=False)
    await queue.purge()
