"""Channel queues in shared memory: a linked list of message blocks per name.

A channel entry (in the channel :class:`NameTable`) holds the queue's head,
tail and length, and a 256-bit map of the client slots waiting on it. Each
message block holds the next link, the expiry (``time.monotonic``, which is
one clock for the whole machine on Linux), the full channel name (process
local channels share their process's queue) and the serialized message.

Invariants, kept across crashes by the journal: ``count`` equals the number
of blocks reachable from ``head``; ``tail`` is the last of them (0 when the
queue is empty); an entry with no messages and no waiters is removed.
"""

from __future__ import annotations

import struct
from typing import Final

from asgiref.layers import ChannelFull

from ._alloc import BLOCK_HEADER, Buddy
from ._errors import SharedMemoryFull
from ._journal import Journal
from ._table import PAYLOAD, NameTable

__all__ = ["Queues"]

_HEAD: Final = PAYLOAD
_TAIL: Final = PAYLOAD + 8
_COUNT: Final = PAYLOAD + 16
_BITS: Final = PAYLOAD + 24
_BITS_LEN: Final = 32
# Every _SWEEP_EVERY pushes a process expires the messages of _SWEEP_SLOTS
# more table slots, so that abandoned channels give their memory back.
_SWEEP_EVERY: Final = 32
_SWEEP_SLOTS: Final = 8
_RECORD: Final = struct.Struct("<QdIB")
_QUEUE: Final = struct.Struct("<QQI")  # head, tail, count
_U32: Final = struct.Struct("<I")
_U64: Final = struct.Struct("<Q")


def _waiting_payload(slot: int) -> bytes:
    """A new entry's payload: an empty queue with only *slot* waiting."""
    return bytes(_BITS - _HEAD) + (1 << slot).to_bytes(_BITS_LEN, "little")


class _NoRoom(Exception):
    """The message arena has no block of the size needed (internal)."""


class Queues:
    def __init__(self, journal: Journal, table: NameTable, buddy: Buddy) -> None:
        self.j = journal
        self.table = table
        self.buddy = buddy
        # Per-process position of the incremental sweep; any position is fine.
        self._cursor = 0
        self._pushes = 0

    @property
    def max_message(self) -> int:
        return self.buddy.max_payload - _RECORD.size - 99

    def _read(self, at: int) -> tuple[int, int, int]:
        head, tail, count = _QUEUE.unpack_from(self.j.mm, at + _HEAD)
        return head, tail, count

    def waiters(self, at: int) -> int:
        return int.from_bytes(self.j.mm[at + _BITS : at + _BITS + _BITS_LEN], "little")

    def _unlink_head(self, at: int) -> tuple[int, bytes, bytes]:
        """Detach the head block; return (expires, channel, data). The queue is non-empty."""
        mm = self.j.mm
        head, tail, count = self._read(at)
        payload = head + BLOCK_HEADER
        nxt, expires, size, name_len = _RECORD.unpack_from(mm, payload)
        start = payload + _RECORD.size
        channel = bytes(mm[start : start + name_len])
        data = bytes(mm[start + name_len : start + name_len + size])
        # head, tail and count are adjacent: one logged write covers them.
        self.j.write(at + _HEAD, _QUEUE.pack(nxt, tail if nxt else 0, count - 1))
        self.buddy.free(head)
        return expires, channel, data

    def _expire(self, at: int, now: float) -> None:
        # Callers run this before changing anything else, so each removal can
        # be committed on its own: however many messages expired, the undo
        # log holds one at a time.
        mm = self.j.mm
        while True:
            head = _U64.unpack_from(mm, at + _HEAD)[0]
            if not head or _RECORD.unpack_from(mm, head + BLOCK_HEADER)[1] > now:
                return
            self._unlink_head(at)
            self.j.commit()

    def push(
        self, key: bytes, channel: bytes, data: bytes, expires: float, capacity: int, now: float
    ) -> int:
        """Append a message; return the waiter bitmap. Raises ChannelFull subclasses."""
        size = _RECORD.size + len(channel) + len(data)
        try:
            bits = self._push(key, channel, data, expires, capacity, now)
        except _NoRoom:
            # Undo this push's partial change, drop expired messages of every
            # channel (each removal committed on its own), then try once more.
            self.j.rollback()
            self._sweep_all(now)
            self.buddy.coalesce()
            try:
                bits = self._push(key, channel, data, expires, capacity, now)
            except _NoRoom:
                raise SharedMemoryFull(
                    f"message_memory is exhausted: no free block for a {size}-byte message; "
                    "receive pending messages or raise message_memory"
                ) from None
        self._pushes += 1
        if self._pushes % _SWEEP_EVERY == 0:
            self.j.commit()  # the push is complete; the sweep is separate work
            self._cursor = (self._cursor + _SWEEP_SLOTS) % self.table.slots
            self.sweep(self._cursor, _SWEEP_SLOTS, now)
        return bits

    def _push(
        self, key: bytes, channel: bytes, data: bytes, expires: float, capacity: int, now: float
    ) -> int:
        at = self.table.find(key) or self.table.insert(key)
        if not at:
            raise SharedMemoryFull(
                f"the channel table is full ({self.table.used} of {self.table.slots} slots "
                "in use); raise message_memory or drain channels"
            )
        self._expire(at, now)
        head, tail, count = self._read(at)
        if count >= capacity:
            raise ChannelFull(
                f"channel {channel.decode()!r} is at its capacity of {capacity} messages"
            )
        size = _RECORD.size + len(channel) + len(data)
        off = self.buddy.alloc(size)
        if not off:
            raise _NoRoom
        payload = off + BLOCK_HEADER
        mm = self.j.mm
        _RECORD.pack_into(mm, payload, 0, expires, len(data), len(channel))
        start = payload + _RECORD.size
        mm[start : start + len(channel)] = channel
        mm[start + len(channel) : start + size - _RECORD.size] = data
        if tail:
            self.j.u64(tail + BLOCK_HEADER, off)
        self.j.write(at + _HEAD, _QUEUE.pack(head if tail else off, off, count + 1))
        return self.waiters(at)

    def pop(
        self, key: bytes, now: float, slot: int, keep_waiting: bool
    ) -> tuple[float, bytes, bytes] | None:
        """Take the oldest live message of *key*.

        When there is none, mark *slot* as waiting on *key* so that the next
        push names it. When there is one and ``keep_waiting`` is false, clear
        the mark.
        """
        at = self.table.find(key)
        if at:
            self._expire(at, now)
            if self._read(at)[2]:
                message = self._unlink_head(at)
                if keep_waiting:
                    self._drop_if_idle(at)
                elif self._read(at)[2] or self.waiters(at) & ~(1 << slot):
                    self._set_bit(at, slot, False)
                else:
                    # Empty, and nobody else waits: the entry goes (this
                    # slot's bit with it) without clearing the bit first.
                    self.table.delete(at)
                return message
            self._set_bit(at, slot, True)
            return None
        # A new entry is written with this slot's waiting bit already set.
        at = self.table.insert(key, _waiting_payload(slot))
        if not at:
            raise SharedMemoryFull(
                f"the channel table is full ({self.table.used} of {self.table.slots} "
                "slots in use); cannot wait on a new channel"
            )
        return None

    def stop_waiting(self, key: bytes, slot: int) -> None:
        at = self.table.find(key)
        if at:
            self._set_bit(at, slot, False)
            self._drop_if_idle(at)

    def _set_bit(self, at: int, slot: int, on: bool) -> None:
        byte_at = at + _BITS + slot // 8
        old = self.j.mm[byte_at]
        new = old | (1 << slot % 8) if on else old & ~(1 << slot % 8)
        if new != old:
            self.j.u8(byte_at, new)

    def _drop_if_idle(self, at: int) -> None:
        if not self._read(at)[2] and not self.waiters(at):
            self.table.delete(at)

    def sweep(self, first: int, count: int, now: float) -> int:
        """Expire messages in *count* table slots from *first*; return how many went.

        Only a push or pop on a channel expires its messages, so a channel
        nobody uses any more (say, the inbox of a crashed process) would keep
        its expired messages forever without this.
        """
        names = []
        for index in range(first, first + count):
            at = self.table.entry(index % self.table.slots)
            name = self.table.name_at(at)
            if name is not None:
                names.append(name)
        dropped = 0
        for name in names:
            at = self.table.find(name)
            before = self._read(at)[2]
            self._expire(at, now)
            dropped += before - self._read(at)[2]
            self._drop_if_idle(at)
            self.j.commit()
        return dropped

    def _sweep_all(self, now: float) -> None:
        self.sweep(0, self.table.slots, now)

    def forget_client(self, slot: int) -> None:
        """Clear *slot*'s waiting marks everywhere (its process is gone)."""
        mask = 1 << slot
        names = [name for name, at in self.table.items() if self.waiters(at) & mask]
        for name in names:
            self.stop_waiting(name, slot)

    def check(self) -> int:
        """Verify every queue; return the number of queued messages."""
        mm = self.j.mm
        total = 0
        for name, at in self.table.items():
            head, tail, count = self._read(at)
            seen, off, last = 0, head, 0
            while off:
                if not self.buddy.base <= off < self.buddy.end or seen > count:
                    raise AssertionError(f"queue {name!r} links outside its arena or loops")
                seen, last = seen + 1, off
                off = _U64.unpack_from(mm, off + BLOCK_HEADER)[0]
            if seen != count or last != tail:
                raise AssertionError(
                    f"queue {name!r}: count {count}, tail {tail}; walked {seen} ending at {last}"
                )
            if not count and not self.waiters(at):
                raise AssertionError(f"queue {name!r} is empty and unwatched but kept")
            total += count
        return total
