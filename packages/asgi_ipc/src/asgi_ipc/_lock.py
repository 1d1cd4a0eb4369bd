"""The segment lock: a kernel file lock on the segment, plus a thread lock.

Why not a semaphore: a POSIX semaphore held by a process that dies stays
taken forever, and a lease that others "break" can race with a slow but live
holder. ``flock`` on the segment's descriptor is released by the kernel the
moment the holder dies, at any instruction, so recovery needs no timeout and
can never run while the old holder is still writing. What the dead holder left
half done is rolled back from the undo log by the next holder.

``flock`` belongs to the open file description, which every thread of this
layer instance shares, so a ``threading.Lock`` orders this instance's threads
(``async_to_sync`` runs layers on several threads).
"""

from __future__ import annotations

import fcntl
import os
import struct
import threading
import time
from collections.abc import Callable
from typing import Final

from ._errors import LockTimeout
from ._journal import Journal

__all__ = ["SegmentLock"]

_U32: Final = struct.Struct("<I")
_flock: Final = fcntl.flock
_EXCLUSIVE_NOW: Final = fcntl.LOCK_EX | fcntl.LOCK_NB
_UNLOCK: Final = fcntl.LOCK_UN
# Backoff between non-blocking attempts: short first (holders keep the lock
# for microseconds), capped so a waiting process stays cheap.
_FIRST_PAUSE: Final = 0.00002
_MAX_PAUSE: Final = 0.0005
# Before the first pause, retry with sched_yield for this long.
_YIELD_FOR: Final = 0.00005


class SegmentLock:
    """Mutual exclusion over one segment; rolls back a dead holder's change."""

    def __init__(
        self,
        fd: int,
        journal: Journal,
        holder_off: int,
        timeout: float,
        on_recover: Callable[[], None],
    ) -> None:
        self._fd = fd
        self._journal = journal
        self._holder_off = holder_off
        self._timeout = timeout
        self._on_recover = on_recover
        self._thread_lock = threading.Lock()
        self._pid = os.getpid()

    def _acquire_file_lock(self) -> None:
        try:
            _flock(self._fd, _EXCLUSIVE_NOW)
            return
        except BlockingIOError:
            pass
        # Holders keep the lock for microseconds: first retry while giving the
        # CPU away (the holder may be waiting for this very CPU). Sleeping at
        # once would cost the timer slack too, about 50 us more than asked.
        now = time.monotonic()
        yielding_until = now + _YIELD_FOR
        while now < yielding_until:
            os.sched_yield()
            try:
                _flock(self._fd, _EXCLUSIVE_NOW)
                return
            except BlockingIOError:
                now = time.monotonic()
        deadline = now + self._timeout
        pause = _FIRST_PAUSE
        while True:
            time.sleep(pause)
            try:
                _flock(self._fd, _EXCLUSIVE_NOW)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    holder = _U32.unpack_from(self._journal.mm, self._holder_off)[0]
                    raise LockTimeout(
                        f"the shared-memory lock was still held by live pid {holder} after "
                        f"{self._timeout} s (lock_timeout); expected it to be free"
                    ) from None
                pause = min(pause * 2, _MAX_PAUSE)

    def acquire(self) -> Journal:
        """Take the lock, first undoing whatever a dead holder left half done."""
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise LockTimeout(
                f"another thread of this process held the layer lock for over {self._timeout} s"
            )
        try:
            self._acquire_file_lock()
        except BaseException:
            self._thread_lock.release()
            raise
        try:
            journal = self._journal
            if journal.pending():  # a dead holder's half-done change
                journal.rollback()
            _U32.pack_into(journal.mm, self._holder_off, self._pid)
            self._on_recover()
        except BaseException:
            self._unlock()
            raise
        return journal

    def release(self, failed: bool) -> None:
        """Commit (or, if the holder *failed*, roll back) and let go."""
        journal = self._journal
        try:
            if failed:
                journal.rollback()
            else:
                journal.commit()
        finally:
            self._unlock()

    def _unlock(self) -> None:
        try:
            _U32.pack_into(self._journal.mm, self._holder_off, 0)
            _flock(self._fd, _UNLOCK)
        finally:
            self._thread_lock.release()
