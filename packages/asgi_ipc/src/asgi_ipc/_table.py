"""A fixed-size open-addressing hash table of names in the shared segment.

Each slot is ``entry_size`` bytes: a used flag, the name length, the name
(at most 99 ASCII bytes, the channel/group name limit) and a payload from
byte :data:`PAYLOAD`. Linear probing with backward-shift deletion keeps the
table free of tombstones, so lookups stay short however many names come and
go. The hash is CRC-32 because Python's ``hash`` differs between processes.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Final

from ._journal import Journal

__all__ = ["PAYLOAD", "NameTable"]

#: Offset of the payload inside a slot.
PAYLOAD: Final = 104
_NAME_MAX: Final = 99
_KEY: Final = struct.Struct("<BB")
_U32: Final = struct.Struct("<I")


class NameTable:
    """Slots ``[off, off + slots * entry_size)``; the used count is at ``count_off``."""

    def __init__(
        self, journal: Journal, off: int, slots: int, entry_size: int, count_off: int
    ) -> None:
        self.j = journal
        self.off = off
        self.slots = slots
        self.entry_size = entry_size
        self.count_off = count_off
        # Past this load linear probing degrades; refuse new names instead.
        self.limit = slots * 7 // 8

    def reset(self) -> None:
        mm = self.j.mm
        mm[self.off : self.off + self.slots * self.entry_size] = bytes(self.slots * self.entry_size)
        _U32.pack_into(mm, self.count_off, 0)

    def entry(self, slot: int) -> int:
        return self.off + slot * self.entry_size

    def _home(self, name: bytes) -> int:
        return zlib.crc32(name) % self.slots

    def name_at(self, at: int) -> bytes | None:
        used, length = _KEY.unpack_from(self.j.mm, at)
        if not used:
            return None
        return bytes(self.j.mm[at + 2 : at + 2 + length])

    def find(self, name: bytes) -> int:
        """Return the entry offset holding *name*, or 0."""
        slot = self._home(name)
        for _ in range(self.slots):
            at = self.entry(slot)
            found = self.name_at(at)
            if found is None:
                return 0
            if found == name:
                return at
            slot = (slot + 1) % self.slots
        return 0

    @property
    def used(self) -> int:
        value: int = _U32.unpack_from(self.j.mm, self.count_off)[0]
        return value

    def insert(self, name: bytes, payload: bytes = b"") -> int:
        """Return the entry offset for *name*, adding it; 0 if full.

        A new entry's payload is *payload*, zero-padded; an existing entry is
        returned unchanged.
        """
        if len(name) > _NAME_MAX:
            raise ValueError(f"names are at most {_NAME_MAX} bytes, got {len(name)}")
        slot = self._home(name)
        for _ in range(self.slots):
            at = self.entry(slot)
            found = self.name_at(at)
            if found == name:
                return at
            if found is None:
                count = self.used
                if count >= self.limit:
                    return 0
                record = _KEY.pack(1, len(name)) + name
                record += bytes(PAYLOAD - len(record)) + payload
                self.j.write(at, record + bytes(self.entry_size - len(record)))
                self.j.u32(self.count_off, count + 1)
                return at
            slot = (slot + 1) % self.slots
        return 0

    def delete(self, at: int) -> None:
        """Remove the entry at *at*, shifting later probe-chain entries back."""
        mm = self.j.mm
        hole = (at - self.off) // self.entry_size
        probe = (hole + 1) % self.slots
        while True:
            probe_at = self.entry(probe)
            name = self.name_at(probe_at)
            if name is None:
                break
            home = self._home(name)
            # The entry may fill the hole only if its home is not strictly
            # between the hole and its current slot (cyclically).
            if (probe - home) % self.slots >= (probe - hole) % self.slots:
                hole_at = self.entry(hole)
                self.j.write(hole_at, bytes(mm[probe_at : probe_at + self.entry_size]))
                hole = probe
            probe = (probe + 1) % self.slots
        self.j.write(self.entry(hole), bytes(self.entry_size))
        self.j.u32(self.count_off, self.used - 1)

    def items(self) -> Iterator[tuple[bytes, int]]:
        """Every (name, entry offset); do not mutate the table while iterating."""
        for slot in range(self.slots):
            at = self.entry(slot)
            name = self.name_at(at)
            if name is not None:
                yield name, at
