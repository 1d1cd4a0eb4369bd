"""The in-memory channel layer: one process, any number of event loops.

Design invariants:

* A message leaves a channel's queue only inside a synchronous section that
  ends with ``receive`` returning it. There is no ``await`` between taking a
  message and returning it, so a cancelled ``receive`` can never lose one.
* Waiter futures carry only a wake-up, never a message. A receiver that is
  woken and then cancelled passes the wake-up on to the next waiter, so a
  message can never sit in a queue while a receiver sleeps.
* Futures are created per ``receive`` on the loop that awaits them, and a
  wake-up for another loop goes through ``call_soon_threadsafe``: the layer
  works from successive ``async_to_sync`` loops and from several threads.
* Messages of one channel expire in the order they were queued (one constant
  expiry, monotonic clock), so expired messages are always at the head of a
  queue, and a heap of queue heads finds them without scanning all channels.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import secrets
import threading
from collections import deque
from collections.abc import Mapping
from time import monotonic, time
from typing import Any

from ._base import BaseChannelLayer
from ._capacity import CapacityPattern
from ._copy import copy_message, is_flat
from ._errors import ChannelFull, InvalidChannelLayerError
from ._memory_groups import GroupRegistry
from ._memory_views import QueueView, group_view, to_wall_clock
from ._message import validate_message
from ._names import (
    DEFAULT_CHANNEL_PREFIX,
    process_local_name,
    require_valid_channel_name,
    require_valid_group_name,
)

__all__ = ["InMemoryChannelLayer"]


class _Channel:
    __slots__ = ("messages", "scheduled", "waiters")

    def __init__(self) -> None:
        self.messages: deque[tuple[float, dict[str, Any]]] = deque()
        self.waiters: deque[asyncio.Future[None]] = deque()
        # Whether the channel has its (single) entry in the layer's heap. A
        # scheduled channel is looked at again by _expire, which also deletes
        # it once empty, so receive never has to delete and re-create it.
        self.scheduled = False


def _positive_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidChannelLayerError(
            f"{name} must be a positive number of seconds, got {value!r}"
        )
    return float(value)


def _wake_pending(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _wake_one(waiters: deque[asyncio.Future[None]], loop: asyncio.AbstractEventLoop | None) -> None:
    """Wake the first live waiter; ``loop`` is the running loop (None outside one)."""
    while waiters:
        waiter = waiters.popleft()
        if waiter.done():
            continue
        owner = waiter.get_loop()
        if owner is loop:
            waiter.set_result(None)
            return
        try:
            owner.call_soon_threadsafe(_wake_pending, waiter)
        except RuntimeError:
            continue  # its loop is closed: that receive can never resume
        return


class InMemoryChannelLayer(BaseChannelLayer):
    """A channel layer that keeps everything in this process's memory.

    Accepts the upstream keyword arguments; other keyword arguments are
    accepted and ignored, as upstream did, so shared settings keep working.
    ``check_values=True`` also rejects values the network layers' serializers
    cannot carry (upstream accepted anything deep-copyable, so it is off by
    default); turn it on in tests of an app that deploys on a network layer.
    """

    extensions = ["groups", "flush"]

    def __init__(
        self,
        expiry: float = 60,
        group_expiry: float = 86400,
        capacity: int = 100,
        channel_capacity: Mapping[CapacityPattern, int] | None = None,
        *,
        check_values: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(expiry=expiry, capacity=capacity, channel_capacity=channel_capacity)
        self.check_values = check_values
        self.expiry = _positive_number("expiry", expiry)
        self.group_expiry = _positive_number("group_expiry", group_expiry)
        self._channels: dict[str, _Channel] = {}
        self._groups = GroupRegistry(self.group_expiry)
        # (deadline of a queue head, tiebreak, channel name); one per scheduled channel.
        self._heads: list[tuple[float, int, str]] = []
        self._tiebreak = itertools.count()
        self._serial = itertools.count()
        self._client_id = secrets.token_hex(6)
        # Guards all state; never held across an await.
        self._lock = threading.Lock()

    # Channels ------------------------------------------------------------------

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Queue *message* on *channel*; raise ChannelFull at capacity."""
        require_valid_channel_name(channel)
        validate_message(message, check_values=self.check_values)
        snapshot = copy_message(message)
        with self._lock:
            now = monotonic()
            self._expire(now)
            capacity = self.get_capacity(channel)
            if not self._deliver([channel], snapshot, now, capacity, asyncio._get_running_loop()):
                raise ChannelFull(f"Channel {channel!r} is at its capacity of {capacity}")

    async def receive(self, channel: str) -> dict[str, Any]:
        """Return the oldest unexpired message on *channel*, waiting for one."""
        require_valid_channel_name(channel)
        housekeeping = True  # once per call: a woken receive only needs its own queue
        while True:
            with self._lock:
                now = monotonic()
                if housekeeping:
                    self._expire(now)
                    housekeeping = False
                state = self._channels.get(channel)
                if state is None:
                    state = self._channels[channel] = _Channel()
                # Inline (no helper call): a woken receive of a fan-out runs this once
                # per member, and the call would be a tenth of its cost.
                messages = state.messages
                while messages:
                    deadline, message = messages.popleft()
                    if deadline > now:
                        return message
                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                state.waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                self._abandon(channel, state, waiter)
                raise

    async def new_channel(self, prefix: str = DEFAULT_CHANNEL_PREFIX) -> str:
        """Return a new process-local channel name, unique within this process."""
        local = f"{next(self._serial):x}{secrets.token_hex(4)}"
        return process_local_name(prefix, self._client_id, local)

    # Groups --------------------------------------------------------------------

    async def group_add(self, group: str, channel: str) -> None:
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        with self._lock:
            self._groups.add(group, channel, monotonic())

    async def group_discard(self, group: str, channel: str) -> None:
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        with self._lock:
            self._groups.discard(group, channel)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Queue *message* on every member; full members are skipped, never raised."""
        require_valid_group_name(group)
        validate_message(message, check_values=self.check_values)
        snapshot = copy_message(message)
        loop = asyncio._get_running_loop()
        with self._lock:
            now = monotonic()
            self._expire(now)
            members = self._groups.members(group, now)
            # Looked up once, not per member, unless patterns or an override can vary it.
            self._deliver(members, snapshot, now, self._uniform_capacity(), loop)

    # Lifecycle -----------------------------------------------------------------

    async def flush(self) -> None:
        """Drop every queued message and group; pending receives keep waiting."""
        with self._lock:
            for name in [name for name, state in self._channels.items() if not state.waiters]:
                del self._channels[name]
            for state in self._channels.values():
                state.messages.clear()
                state.scheduled = False
            self._heads.clear()
            self._groups.clear()

    async def close(self) -> None:
        """Nothing to release: queues live as long as the layer object."""

    # Upstream's shapes, for tests that look inside --------------------------------

    @property
    def channels(self) -> dict[str, QueueView]:
        """Snapshot: channel -> its queue of ``(expiry timestamp, message)``.

        Lists the channels that hold messages or are being received on, as
        upstream's dict of queues did; changing it does not change the layer.
        """
        with self._lock:
            now, wall = monotonic(), time()
            self._expire(now)
            return {
                name: QueueView(
                    [(to_wall_clock(d, now, wall), m) for d, m in state.messages if d > now],
                    self.get_capacity(name),
                )
                for name, state in self._channels.items()
                if state.waiters or any(d > now for d, _ in state.messages)
            }

    @property
    def groups(self) -> dict[str, dict[str, float]]:
        """Snapshot: group -> {channel: join timestamp}, as upstream's ``groups``."""
        with self._lock:
            now = monotonic()
            self._groups.expire(now)
            return group_view(self._groups.snapshot(), self.group_expiry, now, time())

    def _clean_expired(self) -> None:
        """Drop expired messages and memberships now (upstream's housekeeping hook).

        The layer runs this itself on every call; it stays a method because test
        suites written for upstream wrap it (with a lock, say).
        """
        with self._lock:
            self._expire(monotonic())

    def _remove_from_groups(self, channel: str) -> None:
        """Remove *channel* from every group (upstream's helper, kept for the same reason)."""
        with self._lock:
            self._groups.remove_channel(channel)

    # Internals (called with the lock held) ---------------------------------------

    def _uniform_capacity(self) -> int | None:
        """The capacity every channel has, or None when it may differ per channel."""
        if type(self).get_capacity is not BaseChannelLayer.get_capacity:
            return None  # a subclass decides per channel
        matcher = self._capacities
        if matcher.patterns or matcher.source is not self.channel_capacity:
            return None
        return self.capacity if matcher.default == self.capacity else None

    def _deliver(
        self,
        channels: list[str],
        message: dict[str, Any],
        now: float,
        capacity: int | None,
        loop: asyncio.AbstractEventLoop | None,
    ) -> int:
        """Queue *message* on each of *channels* that holds fewer than its capacity of
        live messages; return how many took it.

        ``capacity`` is every channel's capacity, or None to look it up per channel.
        ``loop`` is the running loop (or None), whose waiters are woken directly. The
        first channel that takes the message owns it; the others get copies.
        """
        # One loop with everything inline (no helper calls in the common case): a
        # group fan-out runs this body once per member.
        store = self._channels
        expiry_at = now + self.expiry
        heads = self._heads
        tiebreak = self._tiebreak
        flat = len(channels) > 1 and is_flat(message)
        pending: dict[str, Any] | None = message
        delivered = 0
        for channel in channels:
            state = store.get(channel)
            if state is None:
                state = store[channel] = _Channel()
            messages = state.messages
            while messages and messages[0][0] <= now:
                messages.popleft()
            limit = self.get_capacity(channel) if capacity is None else capacity
            if len(messages) >= limit:
                continue
            if pending is None:
                pending = message.copy() if flat else copy_message(message)
            if not state.scheduled:
                heapq.heappush(heads, (expiry_at, next(tiebreak), channel))
                state.scheduled = True
            messages.append((expiry_at, pending))
            pending = None
            delivered += 1
            waiters = state.waiters
            if waiters:
                waiter = waiters[0]
                if waiter.get_loop() is loop and not waiter.done():
                    waiters.popleft()
                    waiter.set_result(None)
                else:
                    _wake_one(waiters, loop)
        return delivered

    def _abandon(self, channel: str, state: _Channel, waiter: asyncio.Future[None]) -> None:
        # The receive is leaving (cancelled or its loop is going away).
        with self._lock:
            try:
                state.waiters.remove(waiter)
            except ValueError:
                # It had been woken: hand the wake-up to the next waiter.
                if state.messages:
                    _wake_one(state.waiters, asyncio._get_running_loop())
            idle = not state.messages and not state.waiters and not state.scheduled
            if idle and self._channels.get(channel) is state:
                del self._channels[channel]

    def _expire(self, now: float) -> None:
        heads = self._heads
        while heads and heads[0][0] <= now:
            _, _, name = heapq.heappop(heads)
            state = self._channels.get(name)
            if state is None:
                continue
            messages = state.messages
            while messages and messages[0][0] <= now:
                messages.popleft()
            if messages:
                heapq.heappush(heads, (messages[0][0], next(self._tiebreak), name))
                continue
            state.scheduled = False
            if not state.waiters:
                del self._channels[name]
        self._groups.expire(now)
