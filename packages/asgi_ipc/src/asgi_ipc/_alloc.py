"""A buddy allocator for one arena of the shared segment.

Blocks are ``64 << order`` bytes, aligned to their size relative to the arena
base, so a block's buddy is found by flipping one bit of its offset. Every
block starts with a real header (state, order); free blocks also hold the
links of a doubly linked free list per order. Merging on free keeps large
blocks available after many small messages come and go.

All writes go through the :class:`~asgi_ipc._journal.Journal`, so an
allocation or free interrupted by a crash is rolled back whole.
"""

from __future__ import annotations

import struct
from typing import Final

from ._journal import Journal

__all__ = ["BLOCK_HEADER", "Buddy"]

MIN_BLOCK: Final = 64
MAX_ORDERS: Final = 32
#: A single block (so a single message) is at most 8 MiB.
TOP_ORDER_LIMIT: Final = 17
#: Bytes of a used block taken by the allocator; the payload starts after them.
BLOCK_HEADER: Final = 8

_FREE: Final = 1
_USED: Final = 2
_HEAD: Final = struct.Struct("<BB")
_LINKS: Final = struct.Struct("<QQ")
_U64: Final = struct.Struct("<Q")


class Buddy:
    """Allocator over ``[arena_off, arena_off + arena_size)`` of the journal's map."""

    def __init__(self, journal: Journal, arena_off: int, arena_size: int) -> None:
        self.j = journal
        self.heads = arena_off
        self.base = (arena_off + MAX_ORDERS * 8 + MIN_BLOCK - 1) // MIN_BLOCK * MIN_BLOCK
        usable = arena_off + arena_size - self.base
        if usable < MIN_BLOCK * 4:
            raise ValueError(f"arena of {arena_size} bytes is too small for the allocator")
        top = 0
        while top < TOP_ORDER_LIMIT and MIN_BLOCK << (top + 1) <= usable:
            top += 1
        self.top = top
        self.count = usable // (MIN_BLOCK << top)
        # The space after the whole top-order blocks is covered by one block
        # of each smaller order that fits. Each starts at a multiple of a
        # larger power, so it is a lower buddy whose upper buddy lies past
        # ``end``: it never merges with anything.
        self.tail_orders: list[int] = []
        left = usable - self.count * (MIN_BLOCK << top)
        for order in range(top - 1, -1, -1):
            if left >= MIN_BLOCK << order:
                self.tail_orders.append(order)
                left -= MIN_BLOCK << order
        self.end = self.base + usable - left

    @property
    def max_payload(self) -> int:
        return (MIN_BLOCK << self.top) - BLOCK_HEADER

    def reset(self) -> None:
        """Make the whole arena free (unlogged: callers use the reset-redo flag)."""
        mm = self.j.mm
        mm[self.heads : self.heads + MAX_ORDERS * 8] = bytes(MAX_ORDERS * 8)
        size = MIN_BLOCK << self.top
        for index in range(self.count):
            off = self.base + index * size
            nxt = off + size if index + 1 < self.count else 0
            prev = off - size if index else 0
            _HEAD.pack_into(mm, off, _FREE, self.top)
            _LINKS.pack_into(mm, off + 8, prev, nxt)
        _U64.pack_into(mm, self.heads + self.top * 8, self.base if self.count else 0)
        off = self.base + self.count * size
        for order in self.tail_orders:
            _HEAD.pack_into(mm, off, _FREE, order)
            _LINKS.pack_into(mm, off + 8, 0, 0)
            _U64.pack_into(mm, self.heads + order * 8, off)
            off += MIN_BLOCK << order

    # Free lists -----------------------------------------------------------------

    def _head(self, order: int) -> int:
        value: int = _U64.unpack_from(self.j.mm, self.heads + order * 8)[0]
        return value

    def _push(self, order: int, off: int) -> None:
        head = self._head(order)
        self.j.write(off, _HEAD.pack(_FREE, order) + bytes(6) + _LINKS.pack(0, head))
        if head:
            self.j.u64(head + 8, off)
        self.j.u64(self.heads + order * 8, off)

    def _unlink(self, order: int, off: int) -> None:
        prev, nxt = _LINKS.unpack_from(self.j.mm, off + 8)
        if prev:
            self.j.u64(prev + 16, nxt)
        else:
            self.j.u64(self.heads + order * 8, nxt)
        if nxt:
            self.j.u64(nxt + 8, prev)

    # Public operations ----------------------------------------------------------

    def order_for(self, payload: int) -> int:
        total = payload + BLOCK_HEADER
        return max(0, (total - 1).bit_length() - 6)

    def alloc(self, payload: int) -> int:
        """Return the offset of a used block with room for *payload* bytes, or 0."""
        order = self.order_for(payload)
        if order > self.top:
            return 0
        found = order
        while found <= self.top and not self._head(found):
            found += 1
        if found > self.top:
            return 0
        off = self._head(found)
        self._unlink(found, off)
        while found > order:
            found -= 1
            self._push(found, off + (MIN_BLOCK << found))
        # The links of the free block this was are logged with the header:
        # callers then write the payload unlogged over them, and a rollback
        # still restores a well-formed free block.
        self.j.write(off, _HEAD.pack(_USED, order) + bytes(BLOCK_HEADER + 14))
        return off

    def free(self, off: int) -> None:
        mm = self.j.mm
        order = _HEAD.unpack_from(mm, off)[1]
        while order < self.top:
            buddy = self._free_buddy(off, order)
            # Deferred merging: a buddy that is the last block of its order
            # stays, so one message sent and received over and over reuses
            # one block instead of merging up to the top and splitting back
            # down each time. coalesce() merges the rest when room runs out.
            if not buddy or (self._head(order) == buddy and not self._next(buddy)):
                break
            self._unlink(order, buddy)
            off = min(off, buddy)
            order += 1
        self._push(order, off)

    def _next(self, off: int) -> int:
        value: int = _U64.unpack_from(self.j.mm, off + 16)[0]
        return value

    def _free_buddy(self, off: int, order: int) -> int:
        """The buddy of block *off* if it is a free block of the same order, else 0."""
        buddy = self.base + ((off - self.base) ^ (MIN_BLOCK << order))
        if buddy + (MIN_BLOCK << order) > self.end:
            return 0
        state, buddy_order = _HEAD.unpack_from(self.j.mm, buddy)
        return buddy if state == _FREE and buddy_order == order else 0

    def coalesce(self) -> int:
        """Merge every pair of free buddies, committing each merge; return how many.

        Call it only between complete changes (each merge is committed).
        """
        merged = 0
        for order in range(self.top):
            off = self._head(order)
            while off:
                buddy = self._free_buddy(off, order)
                if not buddy:
                    off = self._next(off)
                    continue
                self._unlink(order, off)
                self._unlink(order, buddy)
                self._push(order + 1, min(off, buddy))
                self.j.commit()
                merged += 1
                off = self._head(order)
        return merged

    # Integrity (used by tests after crashes) ------------------------------------

    def check(self) -> tuple[int, int]:
        """Walk every block; return (used blocks, free bytes) or raise AssertionError."""
        mm = self.j.mm
        listed: set[int] = set()
        for order in range(self.top + 1):
            off, prev = self._head(order), 0
            while off:
                state, block_order = _HEAD.unpack_from(mm, off)
                back, nxt = _LINKS.unpack_from(mm, off + 8)
                if state != _FREE or block_order != order or back != prev or off in listed:
                    raise AssertionError(f"free list {order} is broken at offset {off}")
                listed.add(off)
                prev, off = off, nxt
        used = free_bytes = 0
        off = self.base
        while off < self.end:
            state, order = _HEAD.unpack_from(mm, off)
            if (
                state not in (_FREE, _USED)
                or order > self.top
                or (off - self.base) % (MIN_BLOCK << order)
            ):
                raise AssertionError(f"bad block header at offset {off}: {state=} {order=}")
            if state == _FREE:
                if off not in listed:
                    raise AssertionError(f"free block at {off} is on no free list")
                listed.discard(off)
                free_bytes += MIN_BLOCK << order
            else:
                used += 1
            off += MIN_BLOCK << order
        if listed:
            raise AssertionError(f"free lists hold offsets that are not blocks: {sorted(listed)}")
        return used, free_bytes
