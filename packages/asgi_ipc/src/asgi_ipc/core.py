"""The shared-memory channel layer: ``asgi_ipc.core.IPCChannelLayer``.

Configure it like any other layer::

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "asgi_ipc.core.IPCChannelLayer",
            "CONFIG": {"prefix": "mysite"},
        }
    }

Every process on the machine that uses the same ``prefix`` shares the same
channels and groups. Nothing crosses machines.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

from asgiref.layers import (
    DEFAULT_CHANNEL_PREFIX,
    CapacityPattern,
    ChannelFull,
    InvalidMessage,
    Serializer,
    SerializingChannelLayer,
    get_serializer,
    non_local_name,
    process_local_name,
    require_valid_channel_name,
    require_valid_group_name,
)

from ._config import DEFAULT_GROUP_MEMORY, DEFAULT_MESSAGE_MEMORY, IPCConfig
from ._errors import LockTimeout, SharedMemoryFull
from ._session import Session
from ._spin import SPIN_WINDOW
from ._turns import TurnGate

__all__ = ["IPCChannelLayer", "LockTimeout", "SharedMemoryFull"]

_FANOUT_BATCH = 64


class IPCChannelLayer(SerializingChannelLayer):
    """A channel layer for the processes of one machine, over POSIX shared memory.

    ``send``/``group_send`` are asgiref's template: a message larger than one block
    of ``message_memory`` is refused before anything is written.
    """

    extensions = ["groups", "flush"]
    message_size_source = "one block of message_memory"

    def __init__(
        self,
        prefix: str = "asgi",
        expiry: float = 60,
        group_expiry: float = 86400,
        capacity: int = 100,
        channel_capacity: Mapping[CapacityPattern, int] | None = None,
        message_memory: int = DEFAULT_MESSAGE_MEMORY,
        group_memory: int = DEFAULT_GROUP_MEMORY,
        serializer: str | Serializer | None = None,
        mode: int = 0o600,
        lock_timeout: float = 10.0,
        spin: float = SPIN_WINDOW,
    ) -> None:
        super().__init__(expiry=expiry, capacity=capacity, channel_capacity=channel_capacity)
        self.config = IPCConfig.build(
            prefix=prefix,
            expiry=expiry,
            group_expiry=group_expiry,
            message_memory=message_memory,
            group_memory=group_memory,
            mode=mode,
            lock_timeout=lock_timeout,
            spin=spin,
        )
        self.prefix = prefix
        self.group_expiry = group_expiry
        self.serializer = get_serializer(serializer)
        self.client_prefix = secrets.token_hex(6)
        self._session: Session | None = None
        self._session_lock = threading.Lock()
        self._turns = TurnGate()

    def _attached(self) -> Session:
        session = self._session
        if session is not None and session.pid == os.getpid():
            return session
        with self._session_lock:
            # After a fork the parent's session belongs to the parent: the
            # child attaches as a client of its own.
            if self._session is None or self._session.pid != os.getpid():
                self._session = Session(self.config)
            return self._session

    # Channels ------------------------------------------------------------------

    def max_message_size(self) -> int:
        return self._attached().state.queues.max_message

    async def send_payload(self, channel: str, data: bytes) -> None:
        # The shared-memory work never blocks: see _turns for why and when a
        # send yields first (a cancelled send has still sent nothing). The
        # session is taken after the yield: a close() during it must not
        # leave this send holding a detached one.
        if self._turns.must_yield():
            await asyncio.sleep(0)
        session = self._attached()
        now = time.monotonic()
        with session.state.locked() as state:
            bits = state.queues.push(
                non_local_name(channel).encode("ascii"),
                channel.encode("ascii"),
                data,
                now + self.expiry,
                self.get_capacity(channel),
                now,
            )
            names = session.wake(state, _slots(bits))
        session.post(names)

    async def receive(self, channel: str) -> dict[str, Any]:
        """Wait for and return the next message on ``channel``.

        Raises ``InvalidMessage`` when the bytes do not deserialize to a dict, which
        means another process on the same prefix uses a different serializer.
        """
        require_valid_channel_name(channel)
        session = self._attached()
        data = await session.demux.receive(channel)
        try:
            message: dict[str, Any] = self.serializer.deserialize(data)
        except Exception as exc:
            raise InvalidMessage(
                f"a {len(data)}-byte message on {channel!r} could not be deserialized by "
                f"{type(self.serializer).__name__} ({exc}); expected every process on prefix "
                f"{self.prefix!r} to use the same serializer"
            ) from exc
        if not isinstance(message, dict):
            raise InvalidMessage(
                f"a message on {channel!r} deserialized to a {type(message).__name__}, "
                f"expected a dict; every process on prefix {self.prefix!r} must use the "
                "same serializer"
            )
        return message

    async def new_channel(self, prefix: str = DEFAULT_CHANNEL_PREFIX) -> str:
        """Return a new process-local channel name (``prefix`` + this client's ``!`` part)."""
        return process_local_name(prefix, self.client_prefix)

    # Groups --------------------------------------------------------------------

    async def group_add(self, group: str, channel: str) -> None:
        """Add ``channel`` to ``group``; the membership expires after ``group_expiry``."""
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        session = self._attached()
        now = time.monotonic()
        with session.state.locked() as state:
            state.groups.add(
                group.encode("ascii"), channel.encode("ascii"), now + self.group_expiry, now
            )

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove ``channel`` from ``group`` (nothing happens if it is not a member)."""
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        session = self._attached()
        with session.state.locked() as state:
            state.groups.discard(group.encode("ascii"), channel.encode("ascii"), time.monotonic())

    async def group_send_payload(self, group: str, data: bytes) -> None:
        if self._turns.must_yield():  # as in send: let other tasks run
            await asyncio.sleep(0)
        session = self._attached()
        with session.state.locked() as state:
            members = state.groups.members(group.encode("ascii"), time.monotonic())
        # Large groups are served in batches, each in its own lock hold, so
        # other processes are never shut out for a whole fan-out.
        for first in range(0, len(members), _FANOUT_BATCH):
            self._deliver(session, members[first : first + _FANOUT_BATCH], data)

    def _deliver(self, session: Session, members: list[bytes], data: bytes) -> None:
        bits = 0
        with session.state.locked() as state:
            now = time.monotonic()
            journal = state.journal
            for member in members:
                channel = member.decode("ascii")
                try:
                    bits |= state.queues.push(
                        non_local_name(channel).encode("ascii"),
                        member,
                        data,
                        now + self.expiry,
                        self.get_capacity(channel),
                        now,
                    )
                except ChannelFull:
                    # A full member misses this message, as with every layer;
                    # only its partial change is undone.
                    journal.rollback()
                    continue
                # Each member's delivery is its own atomic step, so the undo
                # log never has to hold a whole large group.
                journal.commit()
            names = session.wake(state, _slots(bits))
        session.post(names)

    # Lifecycle -----------------------------------------------------------------

    async def flush(self) -> None:
        """Drop every message and group membership under this layer's prefix."""
        self._attached().flush()

    async def close(self) -> None:
        with self._session_lock:
            session, self._session = self._session, None
        if session is not None and session.pid == os.getpid():
            session.close()

    def check_integrity(self) -> dict[str, int]:
        """Verify the shared structures; raise AssertionError if any is broken.

        Meant for tests and diagnostics: it walks every block under the lock.
        """
        session = self._attached()
        with session.state.locked() as state:
            return state.check()


def _slots(bits: int) -> list[int]:
    slots = []
    while bits:
        low = bits & -bits
        slots.append(low.bit_length() - 1)
        bits ^= low
    return slots
