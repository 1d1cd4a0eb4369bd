"""Where everything lives inside the shared segment (pure arithmetic, no IO).

::

    0        header (one page): magic, state, geometry, lock holder, counters
    4096     undo log (see _journal)
    ...      client table: one slot per attached layer instance
    ...      channel table (NameTable): queue head/tail/count + waiter bitmap
    ...      group table (NameTable): offset/length of the member list blob
    ...      message arena (buddy allocator, ``message_memory`` bytes)
    ...      group arena (buddy allocator, ``group_memory`` bytes)

The geometry derives only from ``message_memory`` and ``group_memory``, which
the header records, so every process computes the same offsets.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

__all__ = ["CLIENT_SLOTS", "HEADER", "MAGIC", "Geometry"]

MAGIC: Final = b"ASGIIPC\x01"
PAGE: Final = 4096
UNDO_SIZE: Final = 256 * 1024
CLIENT_SLOTS: Final = 256
CLIENT_SIZE: Final = 32
CHANNEL_ENTRY: Final = 160
GROUP_ENTRY: Final = 128

# Header fields: (offset, struct format).
STATE_UNINIT: Final = 0
STATE_LIVE: Final = 1
STATE_DEAD: Final = 2


class HEADER:
    """Offsets of the header fields."""

    MAGIC: Final = 0
    STATE: Final = 8  # u32: STATE_*
    RESET_PENDING: Final = 12  # u32: a flush is half done; redo it
    MESSAGE_MEMORY: Final = 16  # u64
    GROUP_MEMORY: Final = 24  # u64
    HOLDER: Final = 32  # u32: pid holding the lock (informational)
    UNDO_COUNT: Final = 36  # u32: see _journal
    CHANNELS: Final = 40  # u32: used channel slots
    GROUPS: Final = 44  # u32: used group slots
    FLUSHES: Final = 48  # u32: flush generation; clients drop local buffers when it moves


_GEOMETRY: Final = struct.Struct("<QQ")


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


@dataclass(frozen=True)
class Geometry:
    message_memory: int
    group_memory: int

    @property
    def undo_off(self) -> int:
        return PAGE

    @property
    def clients_off(self) -> int:
        return PAGE + UNDO_SIZE

    @property
    def channel_slots(self) -> int:
        return _clamp(self.message_memory // 4096, 64, 65536)

    @property
    def group_slots(self) -> int:
        return _clamp(self.group_memory // 2048, 64, 65536)

    @property
    def channels_off(self) -> int:
        return self.clients_off + CLIENT_SLOTS * CLIENT_SIZE

    @property
    def groups_off(self) -> int:
        return self.channels_off + self.channel_slots * CHANNEL_ENTRY

    @property
    def message_arena_off(self) -> int:
        return _page_up(self.groups_off + self.group_slots * GROUP_ENTRY)

    @property
    def group_arena_off(self) -> int:
        return self.message_arena_off + self.message_memory

    @property
    def total_size(self) -> int:
        return _page_up(self.group_arena_off + self.group_memory)

    def pack(self) -> bytes:
        return _GEOMETRY.pack(self.message_memory, self.group_memory)

    @classmethod
    def unpack(cls, data: bytes) -> Geometry:
        message_memory, group_memory = _GEOMETRY.unpack(data)
        return cls(message_memory, group_memory)


def _page_up(value: int) -> int:
    return (value + PAGE - 1) // PAGE * PAGE
