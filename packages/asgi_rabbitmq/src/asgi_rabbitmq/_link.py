"""One AMQP connection of a layer on one event loop, kept alive across broker restarts.

A link owns four AMQP channels on its connection:

* ``publisher`` (publisher confirms on): every publish, so that a full queue
  (``reject-publish``) answers with a nack that ``send`` turns into
  ``ChannelFull``;
* ``admin``: declarations and bindings; a 404 from binding a vanished queue
  closes only this channel, which is reopened on the next use;
* ``inbox`` and ``work``: the consumers (see ``_consumers.py``).

Lifecycle: ``CONNECTING -> CONNECTED <-> RECONNECTING -> CLOSED``. When the
connection drops, a supervisor task reconnects with capped exponential backoff
and restores everything the layer asked for: the groups exchange, the process
queue, its group bindings, normal-channel bindings and consumers.

Every task of a link is detached from its caller's context (``_detached``), so
a caller's scope ending cancels none of them. Should one die anyway (anything
may cancel a task), the link is ``broken``: the layer closes it, which makes
the broker requeue whatever it held unacknowledged, and builds a new one.
Receivers waiting on the link watch ``ended`` and move to the new link.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import aio_pika
import aiormq
import aiormq.exceptions
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractQueue

from ._config import queue_arguments
from ._consumers import LOST_ERRORS as _LOST_ERRORS
from ._consumers import Consumers
from ._detached import detached, foreign_cancellation, run_detached
from ._errors import BrokerUnavailable
from ._owner import LinkOwner

__all__ = ["Link", "LinkState", "PublishOutcome"]

logger = logging.getLogger("asgi_rabbitmq")

_BACKOFF_START = 0.1
#: Default of ``asgi_rabbitmq.core.ReconnectDelay`` (channels_rabbitmq's name and value).
RECONNECT_DELAY = 1.0


def reconnect_delay() -> float:
    """The longest wait between reconnect attempts, in seconds.

    It is ``asgi_rabbitmq.core.ReconnectDelay``, read at every attempt, so an
    application (or a test) can change it at run time, as with channels_rabbitmq.
    Looked up in ``sys.modules``: importing ``core`` from here would be a circle.
    """
    core = sys.modules.get("asgi_rabbitmq.core")
    value = getattr(core, "ReconnectDelay", RECONNECT_DELAY)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        logger.warning("asgi_rabbitmq.core.ReconnectDelay must be > 0 s, got %r", value)
        return RECONNECT_DELAY
    return float(value)


class LinkState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class PublishOutcome(enum.Enum):
    ACCEPTED = "accepted"
    #: No queue matched (the destination does not exist).
    UNROUTABLE = "unroutable"
    #: A destination queue is full and refused the message.
    REJECTED = "rejected"
    #: The connection dropped before the broker answered: the message may be lost.
    LOST = "lost"


class Link:
    """One connection of *owner* (the layer, seen through ``LinkOwner``) on *loop*."""

    def __init__(self, owner: LinkOwner, loop: asyncio.AbstractEventLoop) -> None:
        self.owner = owner
        self.config = owner.config
        self.loop = loop
        self.state = LinkState.CONNECTING
        #: Bumped on every (re)connection; deliveries of an older generation
        #: can no longer be acknowledged (the broker has requeued them).
        self.generation = 0
        self.bind_lock = asyncio.Lock()
        self._admin_lock = asyncio.Lock()
        # Set while CONNECTED, and by close() to wake ready() waiters for good.
        self._connected = asyncio.Event()
        #: Done once the link is closed, for whatever reason.
        self.ended: asyncio.Future[None] = loop.create_future()
        self._lost = asyncio.Event()
        self._connection: AbstractConnection | None = None
        self._publisher: AbstractChannel | None = None
        self._admin: AbstractChannel | None = None
        self.consumers = Consumers(self)
        self._ids = itertools.count()
        # Queue name -> when this link last declared it. Publishing does not
        # reset a queue's x-expires timer, declaring does: a sender re-declares
        # well within that time, so a queue it keeps feeding is never deleted
        # with fresh messages in it while no consumer is attached.
        self._declared: dict[str, float] = {}
        #: The clock for those timestamps (replaceable in tests).
        self.clock: Callable[[], float] = time.monotonic
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._starting: asyncio.Task[None] | None = None

    # Lifecycle ----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED

    @property
    def closed(self) -> bool:
        return self.state is LinkState.CLOSED

    def usable(self) -> bool:
        """Connected, with its background tasks alive (checked on every layer call)."""
        return self.state is LinkState.CONNECTED and not self.broken()

    def broken(self) -> bool:
        """Open in name only: its supervisor died without closing it.

        A dropped connection (closed AMQP channels with it) is not broken: the
        supervisor is reconnecting.
        """
        starting = self._starting
        if self.state is LinkState.CLOSED or starting is None or not starting.done():
            return False
        supervisor = self._supervisor
        return supervisor is None or supervisor.done()

    async def start(self) -> bool:
        """Connect for the first time; concurrent callers share one attempt.

        ``False`` if that attempt was cancelled (the link is closed then).
        """
        if self._starting is None:
            self._starting = detached(self.loop, self._first_open())
        starting = self._starting
        if not starting.done():
            # Not shield(): the attempt's own cancellation must not look like ours.
            await asyncio.wait((starting,))
        if starting.cancelled():
            return False
        starting.result()
        return True

    async def _first_open(self) -> None:
        try:
            await self._open()
        except asyncio.CancelledError:
            await self.close()
            raise
        except Exception as exc:
            self.state = LinkState.CLOSED
            self._end()
            raise BrokerUnavailable(
                f"Could not connect to RabbitMQ at {self._safe_host()}: expected a broker "
                f"accepting AMQP connections, got {type(exc).__name__}: {exc}. Start one with "
                "`rabbitmq-server -detached` or point `host` at a running broker."
            ) from exc
        self._supervisor = detached(self.loop, self._supervise())

    def _safe_host(self) -> str:
        host = self.config.host
        if "@" in host:
            scheme, _, rest = host.partition("://")
            host = f"{scheme}://***@{rest.rpartition('@')[2]}"
        return host

    async def _open(self) -> None:
        connection = await aio_pika.connect(
            self.config.host,
            ssl_context=self.config.ssl_context,
            timeout=self.config.connect_timeout,
            client_properties={"connection_name": f"asgi_rabbitmq {self.owner.client_id}"},
        )
        try:
            await self._setup(connection)
        except BaseException:
            await connection.close()
            raise

    async def _setup(self, connection: AbstractConnection) -> None:
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: lost.set())
        publisher = await connection.channel(publisher_confirms=True, on_return_raises=True)
        admin = await connection.channel(publisher_confirms=False)
        inbox = await connection.channel(publisher_confirms=False)
        work = await connection.channel(publisher_confirms=False)
        # A consumer channel closed by an error under an open connection takes
        # its consumers with it: reconnecting is what restores them all.
        for consumer_channel in (inbox, work):
            consumer_channel.close_callbacks.add(lambda *_: lost.set())
        # Per-consumer prefetch of one on the work channel: a worker holds at
        # most one message of each normal channel while other workers stay free.
        await work.set_qos(prefetch_count=1)
        self._connection, self._publisher, self._admin = connection, publisher, admin
        self.consumers.reset(inbox, work)
        self._lost = lost
        self.generation += 1
        self._declared.clear()
        await self._restore_publisher()
        await self._declare(self.owner.process_queue, self.config.remote_capacity)
        await self._restore()
        self.state = LinkState.CONNECTED
        self._connected.set()

    async def _restore(self) -> None:
        # Bindings live on the broker with the queues; after a restart they are
        # gone, and the layer's own records say what to rebuild.
        queue = self.owner.process_queue
        await asyncio.gather(*(self.bind(queue, group) for group in self.owner.own_groups()))
        for group, channel in self.owner.normal_bindings():
            await self.declare_normal(channel)
            await self.bind(self.config.normal_queue(channel), group)
        await self.consumers.restore()

    async def _supervise(self) -> None:
        try:
            while not self.closed:
                await self._lost.wait()
                if self.closed:
                    return
                self.state = LinkState.RECONNECTING
                self._connected.clear()
                logger.warning(
                    "Lost the RabbitMQ connection to %s; reconnecting", self._safe_host()
                )
                await self._reconnect()
        except asyncio.CancelledError:
            # close(), the end of the loop (asyncio.run cancels every task
            # before closing it) or anything else cancelled us. Without a
            # supervisor the link cannot recover: close the connection now,
            # while the loop still runs (the broker requeues what it held), and
            # let the layer build a new link on next use.
            if not self.closed:
                await self.close()
            raise

    async def _reconnect(self) -> None:
        stale = self._connection
        if stale is not None and not stale.is_closed:  # only a consumer channel died
            with contextlib.suppress(Exception):
                await stale.close()
        delay = min(_BACKOFF_START, reconnect_delay())
        while self.state is LinkState.RECONNECTING:
            await asyncio.sleep(delay)
            try:
                await self._open()
            except Exception as exc:
                delay = min(delay * 2, reconnect_delay())
                logger.info("Reconnecting to RabbitMQ failed (%s); retrying in %.1fs", exc, delay)
            else:
                logger.warning("Reconnected to RabbitMQ at %s", self._safe_host())
                return

    async def ready(self) -> bool:
        """Wait until connected (``True``) or closed (``False``).

        During an outage this waits at most ``expiry`` seconds.
        """
        if self.state is LinkState.CONNECTED:
            return True
        if self.state is not LinkState.CLOSED:
            try:
                await asyncio.wait_for(self._connected.wait(), self.config.expiry)
            except asyncio.TimeoutError:
                raise BrokerUnavailable(
                    f"RabbitMQ at {self._safe_host()} has been unreachable for "
                    f"{self.config.expiry:g}s (the message expiry); expected it back by now"
                ) from None
        return self.connected  # False: closed while we waited

    def _end(self) -> None:
        if not self.ended.done():
            self.ended.set_result(None)

    async def close(self) -> None:
        self.state = LinkState.CLOSED
        self._connected.set()  # wakes ready(), which sees CLOSED
        self._lost.set()
        self._end()
        current = asyncio.current_task()
        for task in (self._supervisor, *self._tasks):
            if task is not None and task is not current:
                task.cancel()
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()

    # Background work on this link's loop ------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        # Detached: an acknowledgement spawned by a receive() that returns at
        # once must still run after the receive's caller scope has ended.
        task = detached(self.loop, coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def call_soon(self, factory: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``factory()`` as a task on this link's loop, from any thread."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.spawn(factory())
        else:
            with contextlib.suppress(RuntimeError):  # loop closed: nothing to do
                self.loop.call_soon_threadsafe(lambda: self.spawn(factory()))

    # Declarations and bindings ---------------------------------------------

    @contextlib.asynccontextmanager
    async def _admin_session(self) -> AsyncIterator[AbstractChannel]:
        # One operation at a time: a 404 or 406 closes the admin channel, and
        # it must not close under another task's RPC. It reopens on next use.
        async with self._admin_lock:
            assert self._admin is not None
            if self._admin.is_closed:
                # The channel's reader task must outlive this caller.
                await run_detached(self._admin.reopen)
            try:
                yield self._admin
            except asyncio.CancelledError:
                # See _publish_once: a cancelled aiormq task cut the connection.
                if not foreign_cancellation():
                    raise
                raise BrokerUnavailable(
                    f"The connection to RabbitMQ at {self._safe_host()} ended during a "
                    "declaration or binding (its reader task was cancelled); expected it open"
                ) from None

    async def _declare(self, name: str, max_length: int) -> AbstractQueue:
        async with self._admin_session() as admin:
            arguments = queue_arguments(self.config, max_length)
            queue = await admin.declare_queue(name, arguments=arguments)
        self._declared[name] = self.clock()
        return queue

    async def declare_normal(self, channel: str, *, force: bool = False) -> None:
        name = self.config.normal_queue(channel)
        if force or not self._fresh(name):
            try:
                await self._declare(name, self.owner.get_capacity(channel))
            except aiormq.exceptions.ChannelPreconditionFailed as exc:
                raise self.owner.mismatch_error(channel, exc) from exc
            self.owner.remember_normal_queue(name)

    def _fresh(self, name: str) -> bool:
        declared = self._declared.get(name)
        return declared is not None and self.clock() - declared <= self.config.queue_expiry / 4

    async def ensure_process_queue(self, *, force: bool = False) -> None:
        """Declare the process queue again if it may have expired, re-binding if it had."""
        name = self.owner.process_queue
        if not force and self._fresh(name):
            return
        existed = await self._exists(name)
        await self._declare(name, self.config.remote_capacity)
        if not existed:
            await asyncio.gather(*(self.bind(name, group) for group in self.owner.own_groups()))

    async def _exists(self, name: str) -> bool:
        async with self._admin_session() as admin:
            try:
                await admin.declare_queue(name, passive=True)
            except aiormq.exceptions.ChannelNotFoundEntity:
                return False
        return True

    async def bind(self, queue: str, group: str) -> bool:
        """Bind *queue* to *group*; ``False`` if the queue does not exist."""
        async with self._admin_session() as admin:
            try:
                raw = await admin.get_underlay_channel()
                await raw.queue_bind(queue, self.config.groups_exchange, routing_key=group)
            except aiormq.exceptions.ChannelNotFoundEntity:
                return False
        return True

    async def unbind(self, queue: str, group: str) -> None:
        async with self._admin_session() as admin:
            with contextlib.suppress(aiormq.exceptions.ChannelNotFoundEntity):
                raw = await admin.get_underlay_channel()
                await raw.queue_unbind(queue, self.config.groups_exchange, routing_key=group)

    async def run_admin(self, action: Callable[[AbstractChannel], Awaitable[Any]]) -> None:
        """Run a flush step; a missing entity is already the wanted outcome."""
        async with self._admin_session() as admin:
            with contextlib.suppress(aiormq.exceptions.ChannelNotFoundEntity):
                await action(admin)

    def forget_declarations(self) -> None:
        self._declared.clear()

    # Publishing ---------------------------------------------------------------

    async def publish(
        self, routing_key: str, body: bytes, *, group: bool = False
    ) -> PublishOutcome:
        # An outage may have begun, or the link ended, since the caller got it.
        if self.state is not LinkState.CONNECTED and not await self.ready():
            raise BrokerUnavailable(
                f"The connection to RabbitMQ at {self._safe_host()} was closed while "
                f"publishing to {routing_key!r}; expected it open"
            )
        try:
            return await self._publish_once(routing_key, body, group)
        except aiormq.exceptions.ChannelNotFoundEntity as exc:
            # Someone deleted the groups exchange (another layer's flush, an
            # operator): the broker closed our publisher channel. Reopen it,
            # restore the exchange and try once more.
            logger.warning("Publishing to %r failed (%s); restoring the exchange", routing_key, exc)
            await self._restore_publisher()
            return await self._publish_once(routing_key, body, group)

    async def _publish_once(self, routing_key: str, body: bytes, group: bool) -> PublishOutcome:
        assert self._publisher is not None
        try:
            if self._publisher.is_closed:
                await self._restore_publisher()
            raw = await self._publisher.get_underlay_channel()
            # aiormq directly: an aio_pika.Message costs more to build than the
            # rest of a send together. The message id must be unique per publish
            # on this channel: returned messages are matched to publishes by it.
            await raw.basic_publish(
                body,
                exchange=self.config.groups_exchange if group else "",
                routing_key=routing_key,
                mandatory=not group,
                properties=aiormq.spec.Basic.Properties(
                    delivery_mode=1, message_id=str(next(self._ids))
                ),
            )
        except aiormq.exceptions.PublishError:
            return PublishOutcome.UNROUTABLE
        except aiormq.exceptions.DeliveryError:
            return PublishOutcome.REJECTED
        except aiormq.exceptions.ChannelNotFoundEntity:
            raise
        except _LOST_ERRORS as exc:
            logger.warning(
                "A message to %r may be lost: the connection dropped (%s)", routing_key, exc
            )
            return PublishOutcome.LOST
        except asyncio.CancelledError:
            # aiormq fails pending publishes with the CancelledError that ended
            # its cancelled reader task; that is a dropped connection, not our
            # caller being cancelled, and must not end the caller's task.
            if not foreign_cancellation():
                raise
            logger.warning("A message to %r may be lost: the connection was cancelled", routing_key)
            return PublishOutcome.LOST
        return PublishOutcome.ACCEPTED

    async def _restore_publisher(self) -> None:
        assert self._publisher is not None
        if self._publisher.is_closed:
            await run_detached(self._publisher.reopen)
        await self._publisher.declare_exchange(
            self.config.groups_exchange, aio_pika.ExchangeType.DIRECT
        )
