"""The consumers of one link: the process queue and the normal channels being received.

* The process-queue consumer runs on the ``inbox`` AMQP channel with
  ``prefetch_count``; each delivery is demultiplexed into the layer's local
  buffers and acknowledged at once.
* Each normal channel being received gets a consumer on the ``work`` AMQP
  channel, whose per-consumer prefetch is one: a worker holds at most one
  message of a channel, acknowledged only when a ``receive()`` returns it, so
  competing workers share the queue and a dying worker hands its message back.

Consumers use the underlay aiormq channels: wrapping each delivery in an
``aio_pika.IncomingMessage`` (which parses all its properties) costs more than
the layer's own handling of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import aiormq
import aiormq.exceptions
from aio_pika.abc import AbstractChannel
from aiormq.abc import DeliveredMessage

from ._cancel_watch import watch_broker_cancels
from ._config import LayerConfig
from ._detached import detached
from ._owner import LinkOwner

__all__ = ["LOST_ERRORS", "ConsumerHost", "Consumers"]

logger = logging.getLogger("asgi_rabbitmq")

#: What a dropped connection or closed channel raises mid-operation.
LOST_ERRORS = (
    aiormq.exceptions.AMQPConnectionError,
    aiormq.exceptions.ChannelInvalidStateError,
    aiormq.exceptions.ChannelClosed,
    ConnectionError,
    RuntimeError,
)


def _delivery_tag(message: DeliveredMessage) -> int:
    delivery = message.delivery
    # A consumer only ever gets Basic.Deliver frames, which carry a tag.
    assert isinstance(delivery, aiormq.spec.Basic.Deliver) and delivery.delivery_tag is not None
    return delivery.delivery_tag


async def _ack(channel: aiormq.abc.AbstractChannel, tag: int) -> None:
    with contextlib.suppress(*LOST_ERRORS):
        await channel.basic_ack(tag, wait=False)


class ConsumerHost(Protocol):
    """What the consumers need from the link they run on (``_link.Link``)."""

    owner: LinkOwner
    config: LayerConfig
    loop: asyncio.AbstractEventLoop
    #: Bumped on every (re)connection: older deliveries can no longer be acknowledged.
    generation: int

    @property
    def connected(self) -> bool: ...

    async def ensure_process_queue(self, *, force: bool = False) -> None: ...

    async def declare_normal(self, channel: str, *, force: bool = False) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None: ...

    def call_soon(self, factory: Callable[[], Coroutine[Any, Any, Any]]) -> None: ...


class Consumers:
    def __init__(self, link: ConsumerHost) -> None:
        self.link = link
        self._inbox: AbstractChannel | None = None
        self._work: AbstractChannel | None = None
        self._setups: dict[str, asyncio.Future[None]] = {}
        self._process_wanted = False
        self._workers: dict[str, str] = {}  # normal channel -> consumer tag
        self._wanted_workers: set[str] = set()
        self._tags: dict[str, str] = {}  # consumer tag -> setup key ("" = process queue)

    def reset(self, inbox: AbstractChannel, work: AbstractChannel) -> None:
        """Adopt a new connection's channels; consumers of the old one are gone."""
        self._inbox, self._work = inbox, work
        self._setups = {}
        self._workers.clear()
        self._tags.clear()

    async def restore(self) -> None:
        """Restart every consumer the layer asked for on the previous connection."""
        if self._process_wanted:
            await self._once("", self._start_process_consumer)
        for channel in sorted(self._wanted_workers):
            await self._once(channel, functools.partial(self._start_worker, channel))

    async def _once(self, key: str, factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        # A receive cancelled while its consumer is being set up must not leave
        # the consumer half-started: setup runs in its own task, shared by every
        # caller, and a failed setup is forgotten so that the next call retries.
        task = self._setups.get(key)
        if task is None:
            task = self._setups[key] = detached(self.link.loop, factory())
            task.add_done_callback(functools.partial(self._forget_failed, key))
        elif task.done() and not task.cancelled() and task.exception() is None:
            return
        await asyncio.shield(task)

    def _forget_failed(self, key: str, task: asyncio.Future[None]) -> None:
        if (task.cancelled() or task.exception() is not None) and self._setups.get(key) is task:
            del self._setups[key]

    async def consume_process_queue(self) -> None:
        self._process_wanted = True
        await self._once("", self._start_process_consumer)

    async def _start_process_consumer(self, *, recreate: bool = False) -> None:
        await self.link.ensure_process_queue(force=recreate)
        assert self._inbox is not None
        await self._inbox.set_qos(prefetch_count=self.link.config.prefetch_count)
        raw = await self._inbox.get_underlay_channel()
        watch_broker_cancels(raw, self._on_cancel)

        async def on_message(message: DeliveredMessage) -> None:
            try:
                self.link.owner.on_process_message(message.body)
            except Exception:  # never let one bad body stall the consumer
                logger.exception(
                    "Dropped a message on %s that could not be handled",
                    self.link.owner.process_queue,
                )
            with contextlib.suppress(*LOST_ERRORS):
                await raw.basic_ack(_delivery_tag(message), wait=False)

        consume_ok = await raw.basic_consume(self.link.owner.process_queue, on_message)
        assert consume_ok.consumer_tag is not None
        self._tags[consume_ok.consumer_tag] = ""

    async def consume_normal(self, channel: str) -> None:
        self._wanted_workers.add(channel)
        await self._once(channel, functools.partial(self._start_worker, channel))

    async def _start_worker(self, channel: str, *, recreate: bool = False) -> None:
        await self.link.declare_normal(channel, force=recreate)
        assert self._work is not None
        raw = await self._work.get_underlay_channel()
        watch_broker_cancels(raw, self._on_cancel)
        generation = self.link.generation

        def alive() -> bool:
            return self.link.generation == generation and self.link.connected

        async def on_message(message: DeliveredMessage) -> None:
            tag = _delivery_tag(message)

            def release(taken: bool) -> None:
                # Acknowledged only once a receive() has it (or it expired):
                # until then, a worker that dies hands it back to the broker.
                if alive():
                    self.link.call_soon(functools.partial(_ack, raw, tag))

            self.link.owner.on_normal_message(channel, message.body, (release, alive))

        consume_ok = await raw.basic_consume(self.link.config.normal_queue(channel), on_message)
        assert consume_ok.consumer_tag is not None
        self._workers[channel] = consume_ok.consumer_tag
        self._tags[consume_ok.consumer_tag] = channel

    def _on_cancel(self, consumer_tag: str) -> None:
        # The broker cancels a consumer whose queue was deleted (another
        # layer's flush, x-expires, an operator). A pending receive would wait
        # forever, so a consumer still wanted is set up again at once, on a
        # re-created queue.
        key = self._tags.pop(consumer_tag, None)
        if key is None:
            return
        self._setups.pop(key, None)
        if key:
            self._workers.pop(key, None)
            if key in self._wanted_workers:
                factory = functools.partial(self._start_worker, key, recreate=True)
                self.link.spawn(self._once(key, factory))
        elif self._process_wanted:
            factory = functools.partial(self._start_process_consumer, recreate=True)
            self.link.spawn(self._once(key, factory))

    async def stop_workers(self) -> None:
        """Cancel the normal-channel consumers (``flush`` deletes their queues next)."""
        assert self._work is not None
        raw = await self._work.get_underlay_channel()
        self._wanted_workers.clear()
        for channel, tag in list(self._workers.items()):
            self._tags.pop(tag, None)
            with contextlib.suppress(*LOST_ERRORS):
                await raw.basic_cancel(tag)
            del self._workers[channel]
            self._setups.pop(channel, None)

    async def stop(self) -> None:
        """Cancel every consumer, for good (``close`` deletes the process queue next)."""
        self._process_wanted = False
        await self.stop_workers()
        assert self._inbox is not None
        raw = await self._inbox.get_underlay_channel()
        for tag, key in list(self._tags.items()):
            if key == "":
                del self._tags[tag]
                with contextlib.suppress(*LOST_ERRORS):
                    await raw.basic_cancel(tag)
        self._setups.pop("", None)
