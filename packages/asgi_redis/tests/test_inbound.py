"""The local buffer/waiter core, without Redis."""

from __future__ import annotations

import asyncio
from collections import deque

from asgi_redis._inbound import Inbound, now_ms


def test_sweeps_run_once_per_period_not_per_push() -> None:
    """Regression: every push used to sweep all buffers (quadratic group fan-out)."""
    inbound = Inbound(lambda channel: 10, expiry=60)
    sweeps = 0
    original = inbound.sweep

    def counting_sweep() -> None:
        nonlocal sweeps
        sweeps += 1
        original()

    inbound.sweep = counting_sweep  # type: ignore[method-assign]
    for index in range(500):
        inbound.push(f"c{index}", "r!", now_ms() + 60_000, b"x")
    assert sweeps == 0
    inbound._last_sweep -= 61_000
    inbound.push("late", "r!", now_ms() + 60_000, b"x")
    assert sweeps == 1


def test_expired_entries_are_skipped_and_swept() -> None:
    inbound = Inbound(lambda channel: 10, expiry=1)
    inbound.push("c", "c", now_ms() - 1, b"old")
    inbound.push("c", "c", now_ms() + 10_000, b"new")
    entry = inbound.take("c")
    assert entry is not None and entry[1] == b"new"
    assert inbound.take("c") is None
    inbound.push("d", "d", now_ms() - 1, b"old")
    inbound.sweep()
    assert inbound.buffered("d") == 0
    assert inbound.expired == 2


async def test_woken_then_cancelled_waiter_passes_the_message_on() -> None:
    inbound = Inbound(lambda channel: 10, expiry=60)
    first = inbound.wait("c", "c")
    second = inbound.wait("c", "c")
    inbound.push("c", "c", now_ms() + 60_000, b"m")
    assert first.done() and not second.done()
    # The first receiver is cancelled after being woken: the wake-up moves on.
    assert inbound.abandon("c", "c", first) == 1
    await asyncio.sleep(0)
    assert second.done()
    inbound.settle("c")
    entry = inbound.take("c")
    assert entry is not None and entry[1] == b"m"
    assert inbound.interest("c") == 0


async def test_cancelled_waiter_dequeued_by_a_push_releases_its_interest() -> None:
    """Regression: a waiter cancelled, then skipped by a push before its receive()
    ran abandon(), kept its interest forever, so its reader popped on after close."""
    inbound = Inbound(lambda channel: 10, expiry=60)
    first = inbound.wait("c", "c")
    second = inbound.wait("c", "c")
    first.cancel()  # Task.cancel() cancels the awaited future at once...
    inbound.push("c", "c", now_ms() + 60_000, b"m")  # ...a reader pushes before abandon()
    assert second.done()
    assert inbound.abandon("c", "c", first) == 1
    inbound.settle("c")
    assert inbound.interest("c") == 0
    entry = inbound.take("c")
    assert entry is not None and entry[1] == b"m"


async def test_a_wake_up_that_came_too_late_is_passed_on() -> None:
    """A cross-loop wake-up dequeues the waiter and schedules wake() on its loop; if
    the cancellation wins, abandon() must hand the wake-up to the next waiter."""
    inbound = Inbound(lambda channel: 10, expiry=60)
    first = inbound.wait("c", "c")
    second = inbound.wait("c", "c")
    with inbound._lock:  # the state _wake_one leaves for a waiter of another loop
        inbound._buffers.setdefault("c", deque()).append((now_ms() + 60_000, b"m"))
        assert inbound._waiters["c"].popleft() is first
    first.cancel()  # ...and its task is cancelled before that wake() ran
    assert inbound.abandon("c", "c", first) == 1
    assert second.done()
    inbound.settle("c")
    assert inbound.interest("c") == 0
    entry = inbound.take("c")
    assert entry is not None and entry[1] == b"m"
