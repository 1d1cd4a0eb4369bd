"""The local inbox: bounded, expiring, cancel-safe and safe across loops and threads."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from asgi_rabbitmq._inbox import Entry, Inbox


def _entry(payload: bytes, ttl: float = 60, released: list[bool] | None = None) -> Entry:
    release = None if released is None else released.append
    return Entry(payload, time.monotonic() + ttl, release=release)


async def test_fifo_and_capacity() -> None:
    inbox = Inbox()
    assert inbox.put("c", _entry(b"1"), capacity=2)
    assert inbox.put("c", _entry(b"2"), capacity=2)
    assert not inbox.put("c", _entry(b"3"), capacity=2)
    assert [await inbox.get("c"), await inbox.get("c")] == [b"1", b"2"]
    assert len(inbox) == 0


async def test_expired_entries_are_skipped_and_released() -> None:
    inbox, released = Inbox(), []
    inbox.put("c", _entry(b"old", ttl=0.01, released=released), capacity=1)
    await asyncio.sleep(0.05)
    # A full buffer makes room by dropping what expired.
    assert inbox.put("c", _entry(b"new", released=released), capacity=1)
    assert await inbox.get("c") == b"new"
    assert released == [False, True]


async def test_a_waiter_gets_the_entry_directly() -> None:
    inbox = Inbox()
    waiting = asyncio.ensure_future(inbox.get("c"))
    await asyncio.sleep(0)
    assert inbox.put("c", _entry(b"x"), capacity=1)
    assert inbox.buffered("c") == 0
    assert await waiting == b"x"


async def test_cancelled_after_hand_over_gives_the_entry_back_in_front() -> None:
    inbox = Inbox()
    waiting = asyncio.ensure_future(inbox.get("c"))
    await asyncio.sleep(0)
    inbox.put("c", _entry(b"first"), capacity=5)  # handed to the waiter...
    waiting.cancel()  # ...which is cancelled before it runs again
    inbox.put("c", _entry(b"second"), capacity=5)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert [await inbox.get("c"), await inbox.get("c")] == [b"first", b"second"]


async def test_entry_that_can_no_longer_be_acknowledged_is_dropped() -> None:
    inbox, alive = Inbox(), [True]
    inbox.put("c", Entry(b"stale", time.monotonic() + 60, alive=lambda: alive[0]), capacity=5)
    alive[0] = False
    inbox.put("c", _entry(b"fresh"), capacity=5)
    assert await inbox.get("c") == b"fresh"


def test_put_from_another_thread_wakes_a_waiter_on_its_loop() -> None:
    inbox = Inbox()

    async def main() -> bytes:
        waiting = asyncio.ensure_future(inbox.get("c"))
        await asyncio.sleep(0.01)
        thread = threading.Thread(
            target=lambda: asyncio.run(_put_later(inbox, "c", _entry(b"from thread")))
        )
        thread.start()
        result = await asyncio.wait_for(waiting, 10)
        await asyncio.to_thread(thread.join)
        return result

    assert asyncio.run(main()) == b"from thread"


async def _put_later(inbox: Inbox, channel: str, entry: Entry) -> None:
    inbox.put(channel, entry, capacity=1)


def test_cross_thread_hand_over_to_a_cancelled_waiter_is_kept() -> None:
    inbox = Inbox()

    async def main() -> bytes:
        waiting = asyncio.ensure_future(inbox.get("c"))
        await asyncio.sleep(0.01)
        # The put runs in another thread; the settle callback reaches this loop
        # only after the waiter has been cancelled.
        thread = threading.Thread(target=inbox.put, args=("c", _entry(b"kept"), 1))
        thread.start()
        thread.join()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return await asyncio.wait_for(inbox.get("c"), 10)

    assert asyncio.run(main()) == b"kept"


async def test_clear_releases_buffered_entries() -> None:
    inbox, released = Inbox(), []
    inbox.put("c", _entry(b"1", released=released), capacity=5)
    inbox.clear()
    assert released == [False]
    assert len(inbox) == 0
