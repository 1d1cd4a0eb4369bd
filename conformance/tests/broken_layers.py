"""Deliberately broken layers: each breaks exactly one guarantee of the spec.

They subclass the correct in-memory layer and poke its internals, so that the
only difference from a conforming layer is the one bug under test.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from time import monotonic
from typing import Any

from asgiref.layers import InMemoryChannelLayer
from sqlite_layer import SQLiteChannelLayer


class DropOnCancelLayer(InMemoryChannelLayer):
    """Awaits between taking a message and returning it: a cancel there loses it."""

    async def receive(self, channel: str) -> dict[str, Any]:
        message = await super().receive(channel)
        await asyncio.sleep(0)
        return message


class ReorderingLayer(InMemoryChannelLayer):
    """Every second message sent to a channel jumps to the front of its queue."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sends = itertools.count()

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await super().send(channel, message)
        if next(self._sends) % 2:
            self._channels[channel].messages.rotate(1)


class NoCapacityLayer(InMemoryChannelLayer):
    """Ignores capacity: ChannelFull is never raised."""

    def get_capacity(self, channel: str) -> int:
        return 10**9


class RaisingGroupSendLayer(InMemoryChannelLayer):
    """group_send sends to each member with send(), so a full member raises."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        for channel in list(self._groups.members(group, monotonic())):
            await self.send(channel, message)


class DuplicatingLayer(InMemoryChannelLayer):
    """Every third received message stays queued: a second reader gets it too."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._receives = itertools.count()

    async def receive(self, channel: str) -> dict[str, Any]:
        message = await super().receive(channel)
        if next(self._receives) % 3 == 2:
            await super().send(channel, dict(message))
            self._channels[channel].messages.rotate(1)
        return message


class NeverExpiresLayer(InMemoryChannelLayer):
    """Queued messages never expire."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        self.expiry = 10.0**9
        await super().send(channel, message)


class EternalGroupsLayer(InMemoryChannelLayer):
    """Group memberships never expire."""

    async def group_add(self, group: str, channel: str) -> None:
        self._groups.expiry = 10.0**9
        await super().group_add(group, channel)


class SharedReferenceLayer(InMemoryChannelLayer):
    """Queues the sender's own dict instead of a copy."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await super().send(channel, message)
        messages = self._channels[channel].messages
        messages[-1] = (messages[-1][0], message)


class CollidingNamesLayer(InMemoryChannelLayer):
    """new_channel() draws from a tiny name space, so names repeat."""

    async def new_channel(self, prefix: str = "specific.") -> str:
        name = await super().new_channel(prefix)
        return name[: name.index("!") + 1] + str(len(name) % 3)


class GluedPrefixLayer(InMemoryChannelLayer):
    """new_channel() glues the prefix to the owner: "foo" gives "foo<owner>!...".

    Names stay valid and unique, but the owner can no longer be read back."""

    async def new_channel(self, prefix: str = "specific.") -> str:
        name = await super().new_channel(prefix)
        return prefix + name[len(prefix) :].lstrip(".")


class SilentlyDroppingLayer(InMemoryChannelLayer):
    """Drops messages that are not dicts instead of raising InvalidMessage."""

    async def send(self, channel: str, message: Any) -> None:
        if isinstance(message, dict):
            await super().send(channel, message)


class LossyGroupLayer(InMemoryChannelLayer):
    """group_send reaches only the first member."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        for channel in self._groups.members(group, monotonic()):
            await self.send(channel, message)
            return


class MixedUpLocalChannelsLayer(InMemoryChannelLayer):
    """Delivers every process-local message to the first local channel received on."""

    def _route(self, channel: str) -> str:
        if "!" not in channel:
            return channel
        return self.__dict__.setdefault("_first_local", channel)  # type: ignore[no-any-return]

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await super().send(self._route(channel), message)

    async def receive(self, channel: str) -> dict[str, Any]:
        return await super().receive(self._route(channel))


class TruncatingLayer(InMemoryChannelLayer):
    """Cuts bytes values longer than 64 KiB."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        cut = {k: v[:65536] if isinstance(v, bytes) else v for k, v in message.items()}
        await super().send(channel, cut)


class ProcessBoundLayer(InMemoryChannelLayer):
    """Claims to be cross-process but keeps everything in one process."""


class SharedProcessPrefixLayer(SQLiteChannelLayer):
    """Cross-process, but every process uses the same process-local prefix."""

    async def new_channel(self, prefix: str = "specific.") -> str:
        name = await super().new_channel(prefix)
        return f"{prefix}everyone!{name.split('!', 1)[1]}"


class StrandingLayer(InMemoryChannelLayer):
    """A woken receiver that is cancelled keeps its wake-up to itself."""

    def _abandon(self, channel: str, state: Any, waiter: asyncio.Future[None]) -> None:
        with self._lock:
            if waiter in state.waiters:
                state.waiters.remove(waiter)


class DropUnwatchedLocalLayer(InMemoryChannelLayer):
    """Drops process-local messages when nobody is receiving on that channel."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        state = self._channels.get(channel)
        if "!" in channel and (state is None or not state.waiters):
            return
        await super().send(channel, message)


class _ConnectionLikeLayer(InMemoryChannelLayer):
    """Sends go through a writer task, as over a connection; each waits for its ack."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._outbox: asyncio.Queue[tuple[str, dict[str, Any], asyncio.Future[None]]] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        if self._writer is None:
            self._outbox = asyncio.Queue()
            self._writer = asyncio.ensure_future(self._write())
        assert self._outbox is not None
        ack = asyncio.get_running_loop().create_future()
        self._outbox.put_nowait((channel, message, ack))
        await ack

    async def _write(self) -> None:
        assert self._outbox is not None
        while True:
            channel, message, ack = await self._outbox.get()
            await asyncio.sleep(0.001)  # the round trip to the broker
            try:
                await super().send(channel, message)
            except Exception as exc:
                ack.set_exception(exc)
            else:
                ack.set_result(None)


class CloseStrandsSendLayer(_ConnectionLikeLayer):
    """close() stops the writer but never answers the sends it had queued."""

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)


class CloseCancelsCallersLayer(CloseStrandsSendLayer):
    """close() cancels the acks of queued sends: their callers get CancelledError."""

    async def close(self) -> None:
        await super().close()
        while self._outbox is not None and not self._outbox.empty():
            self._outbox.get_nowait()[2].cancel()


class TaskLeakingLayer(InMemoryChannelLayer):
    """Starts a heartbeat task on first use that close() never stops."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        if "_heartbeat" not in self.__dict__:
            self._heartbeat = asyncio.ensure_future(self._beat())
        await super().send(channel, message)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(0.05)


class UnclosedSocketLayer(InMemoryChannelLayer):
    """Opens a socket on first use and drops it unclosed in close()."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        if self.__dict__.get("_sockets") is None:
            self._sockets: tuple[socket.socket, socket.socket] | None = socket.socketpair()
        await super().send(channel, message)

    async def close(self) -> None:
        self._sockets = None


class StrandedReceiveLayer(InMemoryChannelLayer):
    """close() is final and refuses later calls, but leaves waiting receives waiting."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        if self.__dict__.get("_closed"):
            raise ConnectionError("this layer is closed")
        await super().send(channel, message)

    async def close(self) -> None:
        self._closed = True
