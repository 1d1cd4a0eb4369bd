"""Attaching to the shared segment of a prefix, creating it when missing.

Creation races are settled under the segment lock: whoever holds it first
and finds no magic initializes the segment (writing the magic last, so a
crash mid-initialization is simply redone). A segment marked dead was
unlinked by its last client; a process that still opened it retries and
creates a fresh one.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
from collections.abc import Callable
from typing import Final

import posix_ipc  # type: ignore[import-not-found]
from asgiref.layers import InvalidChannelLayerError

from ._alloc import Buddy
from ._clients import Clients
from ._config import IPCConfig
from ._groups import Groups
from ._journal import Journal
from ._layout import (
    CHANNEL_ENTRY,
    CLIENT_SIZE,
    CLIENT_SLOTS,
    GROUP_ENTRY,
    HEADER,
    MAGIC,
    STATE_DEAD,
    STATE_LIVE,
    UNDO_SIZE,
    Geometry,
)
from ._lock import SegmentLock
from ._queues import Queues
from ._table import NameTable

__all__ = ["SharedState", "attach"]

_U32: Final = struct.Struct("<I")
_ATTEMPTS: Final = 50
_SIZE_WAIT: Final = 2.0


class SharedState:
    """One process's view of the segment; use its structures only under :meth:`locked`."""

    def __init__(self, shm: posix_ipc.SharedMemory, mm: mmap.mmap, config: IPCConfig) -> None:
        self.shm = shm
        self.mm = mm
        self.name = config.segment_name
        self.journal = Journal(mm, HEADER.UNDO_COUNT, 4096, UNDO_SIZE)
        self.lock = SegmentLock(
            shm.fd, self.journal, HEADER.HOLDER, config.lock_timeout, self._redo_reset
        )
        self.geometry: Geometry | None = None

    def _build(self, geometry: Geometry) -> None:
        j = self.journal
        self.geometry = geometry
        self.clients = Clients(j, geometry.clients_off)
        self.queues = Queues(
            j,
            NameTable(
                j, geometry.channels_off, geometry.channel_slots, CHANNEL_ENTRY, HEADER.CHANNELS
            ),
            Buddy(j, geometry.message_arena_off, geometry.message_memory),
        )
        self.groups = Groups(
            j,
            NameTable(j, geometry.groups_off, geometry.group_slots, GROUP_ENTRY, HEADER.GROUPS),
            Buddy(j, geometry.group_arena_off, geometry.group_memory),
        )

    def locked(self) -> SharedState:
        """``with state.locked() as state:`` holds the lock; commit on success,
        roll back on any exception (a class-based manager: this is the hot path)."""
        return self

    def __enter__(self) -> SharedState:
        self.lock.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.lock.release(failed=kind is not None)

    def _state(self) -> int:
        value: int = _U32.unpack_from(self.mm, HEADER.STATE)[0]
        return value

    def _initialize(self, wanted: Geometry) -> bool:
        """Under the lock: make the segment usable; False means "retry attaching"."""
        mm = self.mm
        if self._state() == STATE_DEAD:
            return False
        if mm[HEADER.MAGIC : HEADER.MAGIC + 8] != MAGIC:
            if len(mm) != wanted.total_size:
                self.mark_dead_and_unlink()
                return False
            mm[HEADER.MESSAGE_MEMORY : HEADER.MESSAGE_MEMORY + 16] = wanted.pack()
            self._build(wanted)
            mm[self.clients.off : self.clients.off + CLIENT_SLOTS * CLIENT_SIZE] = bytes(
                CLIENT_SLOTS * CLIENT_SIZE
            )
            self._reset_data()
            _U32.pack_into(mm, HEADER.STATE, STATE_LIVE)
            mm[HEADER.MAGIC : HEADER.MAGIC + 8] = MAGIC
            return True
        geometry = Geometry.unpack(bytes(mm[HEADER.MESSAGE_MEMORY : HEADER.MESSAGE_MEMORY + 16]))
        if geometry.total_size > len(mm):
            raise InvalidChannelLayerError(
                f"segment {self.name} is {len(mm)} bytes but its header describes "
                f"{geometry.total_size}; expected a segment written by this asgi_ipc version"
            )
        self._build(geometry)
        self._redo_reset()
        return True

    def _reset_data(self) -> None:
        self.queues.table.reset()
        self.queues.buddy.reset()
        self.groups.table.reset()
        self.groups.buddy.reset()

    def _redo_reset(self) -> None:
        # A flush is too large for the undo log; it is made atomic by redoing
        # it whenever a holder died with the reset flag still set.
        if self.geometry is not None and _U32.unpack_from(self.mm, HEADER.RESET_PENDING)[0]:
            self._reset_data()
            _U32.pack_into(self.mm, HEADER.RESET_PENDING, 0)

    def reset(self) -> None:
        """Drop every message and group (call under the lock)."""
        _U32.pack_into(self.mm, HEADER.FLUSHES, (self.flushes() + 1) & 0xFFFFFFFF)
        _U32.pack_into(self.mm, HEADER.RESET_PENDING, 1)
        self._redo_reset()

    def flushes(self) -> int:
        """The flush generation (one aligned load: safe to read without the lock)."""
        value: int = _U32.unpack_from(self.mm, HEADER.FLUSHES)[0]
        return value

    def mark_dead_and_unlink(self) -> None:
        """Under the lock: make late openers start over, then remove the name."""
        _U32.pack_into(self.mm, HEADER.STATE, STATE_DEAD)
        try:
            posix_ipc.unlink_shared_memory(self.name)
        except posix_ipc.ExistentialError:
            pass

    def check(self) -> dict[str, int]:
        """Verify all shared structures (under the lock); raise AssertionError if broken."""
        used_blocks, free_bytes = self.queues.buddy.check()
        queued = self.queues.check()
        group_blocks, group_free = self.groups.buddy.check()
        members = self.groups.check()
        if used_blocks != queued or group_blocks != self.groups.table.used:
            raise AssertionError(
                f"leaked blocks: {used_blocks} message blocks for {queued} messages, "
                f"{group_blocks} group blocks for {self.groups.table.used} groups"
            )
        return {
            "messages": queued,
            "message_free_bytes": free_bytes,
            "memberships": members,
            "group_free_bytes": group_free,
        }

    def detach(self) -> None:
        self.mm.close()
        self.shm.close_fd()


def _open_or_create(config: IPCConfig, size: int) -> posix_ipc.SharedMemory | None:
    try:
        shm = posix_ipc.SharedMemory(config.segment_name, posix_ipc.O_CREX, config.mode, size)
    except posix_ipc.ExistentialError:
        try:
            return posix_ipc.SharedMemory(config.segment_name)
        except posix_ipc.ExistentialError:
            return None
    except posix_ipc.PermissionsError as exc:
        raise InvalidChannelLayerError(
            f"cannot create shared memory {config.segment_name}: {exc}"
        ) from exc
    # shm_open applies the umask; the configured mode is what the user asked for.
    os.fchmod(shm.fd, config.mode)
    try:
        _reserve(shm.fd, size)
    except BaseException:
        shm.close_fd()
        posix_ipc.unlink_shared_memory(config.segment_name)
        raise
    return shm


def _reserve(fd: int, size: int) -> None:
    """Back every page of the segment now.

    A sparse segment would get its pages on first touch, and touching one
    when /dev/shm is full kills the process with SIGBUS. Reserving up front
    turns that into a clear error at attach time instead.
    """
    stats = os.statvfs("/dev/shm")
    available = stats.f_bavail * stats.f_frsize
    if available < size:
        raise InvalidChannelLayerError(
            f"/dev/shm has {available} bytes free but the segment needs {size} "
            "(message_memory + group_memory + tables); free space or lower them"
        )
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        raise InvalidChannelLayerError(
            f"could not reserve {size} bytes of /dev/shm for the segment: {exc}"
        ) from exc


def _wait_for_size(shm: posix_ipc.SharedMemory) -> int:
    # The creator sizes the segment right after creating it.
    deadline = time.monotonic() + _SIZE_WAIT
    while True:
        size = os.fstat(shm.fd).st_size
        if size or time.monotonic() > deadline:
            return size
        time.sleep(0.001)


def attach(config: IPCConfig, on_ready: Callable[[SharedState], None]) -> SharedState:
    """Open (or create and initialize) the segment of ``config.prefix``.

    *on_ready* runs under the same lock hold that found the segment live, so
    the last client cannot close (and unlink) it in between: a client that
    registers there is counted before anyone decides the segment is unused.
    """
    wanted = Geometry(config.message_memory, config.group_memory)
    for _ in range(_ATTEMPTS):
        try:
            shm = _open_or_create(config, wanted.total_size)
        except posix_ipc.PermissionsError as exc:
            raise InvalidChannelLayerError(
                f"cannot open shared memory {config.segment_name}: {exc} "
                "(it belongs to another user, or mode denies access)"
            ) from exc
        if shm is None:
            continue
        size = _wait_for_size(shm)
        if not size:
            # Its creator died between creating and sizing it.
            shm.close_fd()
            try:
                posix_ipc.unlink_shared_memory(config.segment_name)
            except posix_ipc.ExistentialError:
                pass
            continue
        state = SharedState(shm, mmap.mmap(shm.fd, size), config)
        try:
            with state.locked():
                ready = state._initialize(wanted)
                if ready:
                    on_ready(state)
        except BaseException:
            state.detach()
            raise
        if ready:
            return state
        state.detach()
    raise InvalidChannelLayerError(
        f"could not attach to shared memory {config.segment_name} after {_ATTEMPTS} attempts"
    )
