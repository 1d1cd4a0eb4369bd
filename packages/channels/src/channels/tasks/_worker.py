"""``TaskWorker``: takes task messages off their queue channels and runs them.

Invariants:

* A message is taken from the layer only when a slot is free (at most
  ``concurrency`` tasks per queue run at once), so an idle worker never
  holds work another worker could run, and two workers share a queue.
* Stopping (SIGTERM, SIGINT or :meth:`request_stop`) takes no new message:
  pending receives are cancelled, a message received in that same step is
  sent back to its channel, and the tasks already running finish. A second
  stop request cancels them (recorded as failed).
* A task whose ``run_after`` is still ahead when it arrives (sent without
  the delay server, or due beyond its 7-day limit) goes back through the
  delay server for the rest of the wait instead of running early.
* Nothing a task does ends the worker; a message that is not a task is
  logged and dropped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.crypto import get_random_string

from .._worker import serve_until_signalled
from ..delay import MAX_DELAY_MS, send_delayed
from ._backend import ChannelLayerBackend
from ._execute import execute
from ._message import InvalidTaskMessage, TaskMessage, decode_task_message, task_channel

__all__ = ["TaskWorker"]

logger = logging.getLogger("channels.tasks")


class TaskWorker:
    """Run the tasks of *queues* sent through *backend*'s channel layer."""

    def __init__(
        self,
        backend: ChannelLayerBackend,
        queues: Iterable[str],
        channel_layer: Any,
        concurrency: int = 1,
    ) -> None:
        if channel_layer is None:
            raise ValueError("TaskWorker needs a channel layer, got None: configure CHANNEL_LAYERS")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be an int of 1 or more, got {concurrency!r}")
        self.backend = backend
        self.queues = list(queues)
        if not self.queues:
            raise ValueError("TaskWorker needs one or more queue names, got none")
        self.channels = {task_channel(queue): queue for queue in self.queues}
        self.channel_layer = channel_layer
        self.concurrency = concurrency
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{get_random_string(6)}"
        self._running: set[asyncio.Task[None]] = set()
        self._stop: asyncio.Event | None = None

    # Running ---------------------------------------------------------------------

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT, let the running tasks finish, then return."""
        asyncio.run(serve_until_signalled([self]))

    def request_stop(self, signum: int | None = None) -> None:
        """Begin a graceful stop; called again, cancel the tasks still running."""
        name = signal.Signals(signum).name if signum is not None else "stop request"
        stop = self._stop_event()
        if stop.is_set():
            logger.warning(
                "Received %s again: cancelling %d running tasks", name, len(self._running)
            )
            for running in self._running:
                running.cancel()
            return
        logger.info("Received %s: finishing %d running tasks", name, len(self._running))
        stop.set()

    def _stop_event(self) -> asyncio.Event:
        if self._stop is None:
            self._stop = asyncio.Event()
        return self._stop

    async def arun(self) -> None:
        """Serve the configured queues until a stop is requested (``request_stop``)."""
        stop = self._stop_event()
        logger.info(
            "Running tasks from queues %s (channels %s), %d at a time per queue, as %s",
            ", ".join(self.queues),
            ", ".join(self.channels),
            self.concurrency,
            self.worker_id,
        )
        serving = [asyncio.ensure_future(self._serve(channel, stop)) for channel in self.channels]
        try:
            await asyncio.gather(*serving)
        finally:
            for server in serving:
                server.cancel()
            await asyncio.gather(*serving, return_exceptions=True)
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
        logger.info("Task worker stopped")

    async def _serve(self, channel: str, stop: asyncio.Event) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        while not stop.is_set():
            await slots.acquire()
            message = await self._receive_unless_stopped(channel, stop)
            if message is None:
                slots.release()
                return
            running = asyncio.ensure_future(self._handle(channel, message))
            self._running.add(running)
            running.add_done_callback(self._running.discard)
            running.add_done_callback(lambda _: slots.release())

    async def _receive_unless_stopped(self, channel: str, stop: asyncio.Event) -> Any:
        if stop.is_set():
            return None
        receiving = asyncio.ensure_future(self.channel_layer.receive(channel))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (receiving, stopping):
                waiter.cancel()
            await asyncio.gather(receiving, stopping, return_exceptions=True)
        if receiving.cancelled() or receiving.exception() is not None:
            if not receiving.cancelled():
                raise receiving.exception()  # type: ignore[misc]
            return None
        message = receiving.result()
        if stop.is_set():
            # Taken in the same step as the stop: it belongs to the next worker.
            logger.info("Returning a task message received while stopping to %r", channel)
            await self.channel_layer.send(channel, message)
            return None
        return message

    # One message -------------------------------------------------------------------

    async def _handle(self, channel: str, raw: Any) -> None:
        try:
            message = decode_task_message(raw)
        except InvalidTaskMessage as exc:
            logger.error("Dropped a message on task channel %r: %s", channel, exc)
            return
        try:
            if await self._defer_if_early(channel, message):
                return
            await execute(message, self.backend.result_database, self.worker_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The store or the layer failed around the task; the worker serves on.
            logger.exception("Task id=%s path=%s was not recorded", message.id, message.task_path)

    async def _defer_if_early(self, channel: str, message: TaskMessage) -> bool:
        if message.run_after is None:
            return False
        wait = message.run_after - timezone.now()
        delay_ms = int(wait.total_seconds() * 1000)
        if delay_ms <= 0:
            return False
        logger.info("Task id=%s is due in %d ms: sending it back to wait", message.id, delay_ms)
        await send_delayed(
            channel,
            message.encode(),
            min(delay_ms, MAX_DELAY_MS),
            alias=self.backend.channel_layer_alias,
        )
        return True
