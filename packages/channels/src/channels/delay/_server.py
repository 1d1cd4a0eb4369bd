"""The loop behind ``manage.py rundelay``.

Invariants:

* A request is stored before the next one is taken from the layer, so a
  request the layer handed over survives a restart from then on.
* A row is deleted only after its message was handed to the layer: delivery
  is at-least-once (a crash between the two sends it again on restart).
  Run one ``rundelay`` per database.
* A bad request is logged and dropped; the server keeps serving. A request
  that cannot be stored (database down) is sent back to the delay channel
  before the error ends the server.
* A stop request ends the loop between steps, never in the middle of
  storing or sending.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Any

from asgiref.layers import ChannelFull, get_serializer
from django.utils import timezone

from .._db import database_sync_to_async
from ._message import DELAY_CHANNEL, DelayRequest, InvalidDelayMessage, validate_delay_message

__all__ = ["DelayServer"]

logger = logging.getLogger("channels.delay")

_codec = get_serializer("json")


def _store(request: DelayRequest) -> None:
    from .models import DelayedMessage

    due_at = timezone.now() + datetime.timedelta(milliseconds=request.delay_ms)
    DelayedMessage.objects.create(
        channel=request.channel,
        content=_codec.serialize(request.content).decode(),
        due_at=due_at,
    )


def _due(limit: int) -> list[tuple[int, str, dict[str, Any]]]:
    from .models import DelayedMessage

    rows = DelayedMessage.objects.filter(due_at__lte=timezone.now())[:limit]
    return [(row.pk, row.channel, _codec.deserialize(row.content.encode())) for row in rows]


def _seconds_until_next() -> float | None:
    from .models import DelayedMessage

    row = DelayedMessage.objects.order_by("due_at").only("due_at").first()
    if row is None:
        return None
    return max(0.0, float((row.due_at - timezone.now()).total_seconds()))


def _delete(pk: int) -> None:
    from .models import DelayedMessage

    DelayedMessage.objects.filter(pk=pk).delete()


class DelayServer:
    """Receive delay requests on *channel*, store them, send them when due."""

    def __init__(
        self,
        channel_layer: Any,
        channel: str = DELAY_CHANNEL,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 100,
    ) -> None:
        if channel_layer is None:
            raise ValueError(
                "DelayServer needs a channel layer, got None: configure CHANNEL_LAYERS"
            )
        self.channel_layer = channel_layer
        self.channel = channel
        # Rows written by another process (or a full channel) are noticed
        # within this many seconds.
        self.poll_interval = poll_interval
        self.batch_size = batch_size

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until *stop* is set."""
        logger.info("Delay server listening on %r", self.channel)
        receiving = asyncio.ensure_future(self.channel_layer.receive(self.channel))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                backoff = await self.send_due()
                wait = await database_sync_to_async(_seconds_until_next)()
                wait = (
                    self.poll_interval if wait is None or backoff else min(wait, self.poll_interval)
                )
                done, _ = await asyncio.wait(
                    {receiving, stopping}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                if receiving in done:
                    await self._store_or_return(receiving.result())
                    receiving = asyncio.ensure_future(self.channel_layer.receive(self.channel))
        finally:
            for task in (receiving, stopping):
                task.cancel()
            await asyncio.gather(receiving, stopping, return_exceptions=True)
            await self._return_unhandled(receiving)
        logger.info("Delay server stopped")

    async def _return_unhandled(self, receiving: asyncio.Future[Any]) -> None:
        # A receive can complete in the same step the loop ends (stop, or an
        # error elsewhere): that request was taken from the layer but never
        # stored, so it goes back for the next run.
        if receiving.cancelled() or receiving.exception() is not None:
            return
        logger.info("Returning an unstored delay request to %r", self.channel)
        await self.channel_layer.send(self.channel, receiving.result())

    async def store(self, message: object) -> bool:
        """Validate and store one request; a bad one is logged and dropped."""
        try:
            request = validate_delay_message(message)
        except InvalidDelayMessage as exc:
            logger.error("Dropped a delay request on %r: %s", self.channel, exc)
            return False
        await database_sync_to_async(_store)(request)
        return True

    async def _store_or_return(self, message: Any) -> None:
        try:
            await self.store(message)
        except Exception:
            # The layer already handed the request over: put it back before
            # failing, so the next run stores it instead of it being lost.
            logger.exception("Could not store a delay request; returning it to %r", self.channel)
            await self.channel_layer.send(self.channel, message)
            raise

    async def send_due(self) -> bool:
        """Send every due message; return True if a full channel made us stop early."""
        for pk, channel, content in await database_sync_to_async(_due)(self.batch_size):
            try:
                await self.channel_layer.send(channel, content)
            except ChannelFull:
                logger.warning("Channel %r is full; retrying its delayed message later", channel)
                return True
            await database_sync_to_async(_delete)(pk)
        return False
