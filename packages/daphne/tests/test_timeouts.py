"""TimeoutQueue: fixed-delay timeouts on one timer, driven by a manual clock (and a real loop)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from daphne._timeouts import TimeoutQueue
from twisted.internet import task


class ManualClock:
    """asyncio's timer calls on Twisted's ``task.Clock``: time moves only when a test says so.

    The timeouts below are asserted exactly, with no wall-clock margin to race against.
    """

    def __init__(self) -> None:
        self.clock = task.Clock()

    def time(self) -> float:
        return self.clock.seconds()

    def call_later(self, delay, callback):
        return self.clock.callLater(delay, callback)

    def call_at(self, when, callback):
        return self.clock.callLater(max(0.0, when - self.clock.seconds()), callback)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)


def test_entries_expire_in_order_after_the_delay():
    clock = ManualClock()
    fired: list[tuple[str, float]] = []
    queue = TimeoutQueue(clock, 0.05, lambda key: fired.append((key, clock.time())))
    queue.add("a")
    clock.advance(0.02)
    queue.add("b")
    assert len(queue) == 2 and "a" in queue
    clock.advance(0.029)
    assert fired == []
    clock.advance(0.001)
    assert fired == [("a", pytest.approx(0.05))]
    clock.advance(0.02)
    assert fired == [("a", pytest.approx(0.05)), ("b", pytest.approx(0.07))]
    assert len(queue) == 0


def test_discarded_entries_never_fire_and_the_next_one_still_does():
    clock = ManualClock()
    fired: list[str] = []
    queue = TimeoutQueue(clock, 0.03, fired.append)
    queue.add("a")
    clock.advance(0.01)
    queue.add("b")
    queue.discard("a")
    queue.discard("never added")
    clock.advance(0.02)
    assert fired == []  # a's old timer fired, found b not yet due, and re-armed
    assert clock.clock.getDelayedCalls()[0].getTime() == pytest.approx(0.04)
    clock.advance(0.01)
    assert fired == ["b"]


def test_adding_twice_keeps_the_first_deadline():
    clock = ManualClock()
    fired: list[str] = []
    queue = TimeoutQueue(clock, 0.04, fired.append)
    queue.add("a")
    clock.advance(0.03)
    queue.add("a")
    clock.advance(0.01)
    assert fired == ["a"]


def test_a_failing_callback_is_logged_and_the_rest_still_fire(caplog):
    def expired(key: str) -> None:
        if key == "bad":
            raise RuntimeError("boom")
        fired.append(key)

    fired: list[str] = []
    clock = ManualClock()
    queue = TimeoutQueue(clock, 0.01, expired)
    queue.add("bad")
    queue.add("good")
    with caplog.at_level(logging.ERROR, logger="daphne.server"):
        clock.advance(0.01)
    assert fired == ["good"]
    assert "timeout handler" in caplog.text and "boom" in caplog.text


def test_callbacks_may_add_entries_and_close_forgets_everything():
    clock = ManualClock()
    fired: list[int] = []

    def expired(key: int) -> None:
        fired.append(key)
        if key < 3:
            queue.add(key + 1)

    queue = TimeoutQueue(clock, 0.01, expired)
    queue.add(1)
    for _ in range(5):
        clock.advance(0.01)
    queue.add(10)
    queue.close()
    assert clock.clock.getDelayedCalls() == []
    clock.advance(0.03)
    assert (fired, len(queue)) == ([1, 2, 3], 0)


@pytest.mark.parametrize("delay", [0, -1])
def test_a_zero_or_negative_delay_expires_on_the_next_loop_pass(delay):
    async def main():
        fired: list[str] = []
        queue = TimeoutQueue(asyncio.get_running_loop(), delay, fired.append)
        queue.add("a")
        assert fired == []
        await asyncio.sleep(0.01)
        return fired

    assert asyncio.run(main()) == ["a"]
