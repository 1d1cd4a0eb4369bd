"""Groups in shared memory: a member-list blob per group name.

A group entry (in the group :class:`NameTable`) points at one block of the
group arena holding ``[u8 name length][name][f64 expiry]`` per member. A
change writes a complete new blob into a fresh block and then swaps the
pointer (copy-then-swap), so a crash leaves either the old list or the new
one, never a mix. Expired members are dropped whenever the list is rewritten
and skipped when it is read.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from ._alloc import BLOCK_HEADER, Buddy
from ._errors import SharedMemoryFull
from ._journal import Journal
from ._table import PAYLOAD, NameTable

__all__ = ["Groups"]

_BLOB: Final = PAYLOAD
_BLOB_LEN: Final = PAYLOAD + 8
_REF: Final = struct.Struct("<QI")
_EXPIRES: Final = struct.Struct("<d")


def _decode(data: bytes) -> dict[bytes, float]:
    members: dict[bytes, float] = {}
    pos = 0
    while pos < len(data):
        length = data[pos]
        name = data[pos + 1 : pos + 1 + length]
        members[name] = _EXPIRES.unpack_from(data, pos + 1 + length)[0]
        pos += 1 + length + _EXPIRES.size
    return members


def _encode(members: dict[bytes, float]) -> bytes:
    return b"".join(
        bytes((len(name),)) + name + _EXPIRES.pack(expires) for name, expires in members.items()
    )


class _NoRoom(Exception):
    """The group arena has no block of the size needed (internal)."""


class Groups:
    def __init__(self, journal: Journal, table: NameTable, buddy: Buddy) -> None:
        self.j = journal
        self.table = table
        self.buddy = buddy

    def _load(self, at: int) -> dict[bytes, float]:
        blob, length = _REF.unpack_from(self.j.mm, at + _BLOB)
        if not blob:
            return {}
        start = blob + BLOCK_HEADER
        return _decode(bytes(self.j.mm[start : start + length]))

    def _store(self, at: int, members: dict[bytes, float]) -> None:
        old = _REF.unpack_from(self.j.mm, at + _BLOB)[0]
        if not members:
            if old:
                self.buddy.free(old)
            self.table.delete(at)
            return
        data = _encode(members)
        block = self.buddy.alloc(len(data))
        if not block:
            raise _NoRoom(
                f"group_memory is exhausted: no free block for a {len(data)}-byte member "
                "list; discard members or raise group_memory"
            )
        start = block + BLOCK_HEADER
        self.j.mm[start : start + len(data)] = data
        self.j.write(at + _BLOB, _REF.pack(block, len(data)))
        if old:
            self.buddy.free(old)

    def members(self, group: bytes, now: float) -> list[bytes]:
        at = self.table.find(group)
        if not at:
            return []
        return [name for name, expires in self._load(at).items() if expires > now]

    def add(self, group: bytes, channel: bytes, expires: float, now: float) -> None:
        self._with_room(lambda: self._add(group, channel, expires, now))

    def discard(self, group: bytes, channel: bytes, now: float) -> None:
        self._with_room(lambda: self._discard(group, channel, now))

    def _with_room(self, change: Callable[[], None]) -> None:
        try:
            change()
        except _NoRoom:
            # Undo the partial change, merge free blocks, and try once more.
            self.j.rollback()
            self.buddy.coalesce()
            try:
                change()
            except _NoRoom as exc:
                raise SharedMemoryFull(str(exc)) from None

    def _add(self, group: bytes, channel: bytes, expires: float, now: float) -> None:
        at = self.table.find(group) or self.table.insert(group)
        if not at:
            raise SharedMemoryFull(
                f"the group table is full ({self.table.used} of {self.table.slots} slots "
                "in use); raise group_memory"
            )
        members = {name: when for name, when in self._load(at).items() if when > now}
        members.pop(channel, None)
        members[channel] = expires
        if len(_encode(members)) > self.buddy.max_payload:
            raise SharedMemoryFull(
                f"group {group.decode()!r} has {len(members)} members, more than one "
                f"{self.buddy.max_payload}-byte block of group_memory holds"
            )
        self._store(at, members)

    def _discard(self, group: bytes, channel: bytes, now: float) -> None:
        at = self.table.find(group)
        if not at:
            return
        members = self._load(at)
        if channel not in members:
            return
        del members[channel]
        self._store(at, {name: when for name, when in members.items() if when > now})

    def check(self) -> int:
        """Verify every member list decodes; return the number of memberships."""
        total = 0
        for name, at in self.table.items():
            blob = _REF.unpack_from(self.j.mm, at + _BLOB)[0]
            if not self.buddy.base <= blob < self.buddy.end:
                raise AssertionError(f"group {name!r} points outside the group arena")
            total += len(self._load(at))
        return total
