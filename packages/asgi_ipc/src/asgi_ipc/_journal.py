"""An undo log that makes every change made under the segment lock atomic.

Invariant: before a byte of shared state changes, its old value is appended to
the log, and the entry becomes valid only when the entry count (one aligned
4-byte store, which a SIGKILL cannot split) is bumped. So at any instant the
log holds the old bytes of everything the current lock holder has changed.
The next lock holder finds a non-zero count if the previous one died, and
restores those bytes in reverse order: the half-applied change disappears.
Restoring is idempotent, so dying during a rollback is harmless too.

Bytes written into a block that the same change just allocated need no log
entry: undoing the allocation makes the block free again, and the contents of
a free block mean nothing.
"""

from __future__ import annotations

import mmap
import struct
from typing import Final

from ._errors import SharedMemoryFull

__all__ = ["Journal"]

_ENTRY: Final = struct.Struct("<QI")
_ENTRY_SIZE: Final = _ENTRY.size
_COUNT: Final = struct.Struct("<I")
_U8: Final = struct.Struct("<B")
_U32: Final = struct.Struct("<I")
_U64: Final = struct.Struct("<Q")
_F64: Final = struct.Struct("<d")


class Journal:
    """Logged writes into *mm*; the log lives at ``log_off`` (``log_size`` bytes)."""

    def __init__(self, mm: mmap.mmap, count_off: int, log_off: int, log_size: int) -> None:
        self.mm = mm
        self._count_off = count_off
        self._log_off = log_off
        self._log_size = log_size
        self._count = 0
        self._used = 0

    # Logged writes --------------------------------------------------------------

    def write(self, off: int, data: bytes) -> None:
        size = len(data)
        mm = self.mm
        used = self._used
        needed = _ENTRY_SIZE + size
        if used + needed > self._log_size:
            raise SharedMemoryFull(
                f"the undo log needs {needed} more bytes but only "
                f"{self._log_size - used} of {self._log_size} are free; "
                "the change was rolled back"
            )
        pos = self._log_off + used
        # The entry (target, size, old bytes) is complete before the count
        # that makes it valid is stored; the new bytes go in only after that.
        mm[pos : pos + needed] = _ENTRY.pack(off, size) + mm[off : off + size]
        count = self._count + 1
        self._count = count
        self._used = used + needed
        _COUNT.pack_into(mm, self._count_off, count)
        mm[off : off + size] = data

    def u8(self, off: int, value: int) -> None:
        self.write(off, _U8.pack(value))

    def u32(self, off: int, value: int) -> None:
        self.write(off, _U32.pack(value))

    def u64(self, off: int, value: int) -> None:
        self.write(off, _U64.pack(value))

    def f64(self, off: int, value: float) -> None:
        self.write(off, _F64.pack(value))

    # Transaction boundaries -----------------------------------------------------

    def commit(self) -> None:
        """Make everything written so far permanent (the count store is the commit)."""
        if self._count:
            _COUNT.pack_into(self.mm, self._count_off, 0)
            self._count = 0
            self._used = 0

    def rollback(self) -> int:
        """Undo every logged write not yet committed; return how many were undone."""
        mm = self.mm
        count = _COUNT.unpack_from(mm, self._count_off)[0]
        entries: list[tuple[int, int, int]] = []
        pos = self._log_off
        end = self._log_off + self._log_size
        for _ in range(count):
            if pos + _ENTRY.size > end:
                break
            off, size = _ENTRY.unpack_from(mm, pos)
            if pos + _ENTRY.size + size > end or off + size > len(mm):
                break
            entries.append((off, size, pos + _ENTRY.size))
            pos += _ENTRY.size + size
        for off, size, old in reversed(entries):
            mm[off : off + size] = mm[old : old + size]
        _COUNT.pack_into(mm, self._count_off, 0)
        self._count = 0
        self._used = 0
        return len(entries)

    def pending(self) -> int:
        """Entries left by a holder that died before committing."""
        count: int = _COUNT.unpack_from(self.mm, self._count_off)[0]
        return count
