"""TimeoutQueue: fixed-delay timeouts on one timer, driven by a real event loop."""

from __future__ import annotations

import asyncio
import logging

import pytest
from daphne._timeouts import TimeoutQueue


def run(coro):
    return asyncio.run(coro)


def test_entries_expire_in_order_after_the_delay():
    async def main():
        loop = asyncio.get_running_loop()
        fired: list[tuple[str, float]] = []
        start = loop.time()
        queue = TimeoutQueue(loop, 0.05, lambda key: fired.append((key, loop.time() - start)))
        queue.add("a")
        await asyncio.sleep(0.02)
        queue.add("b")
        assert len(queue) == 2 and "a" in queue
        await asyncio.sleep(0.1)
        return fired, len(queue)

    fired, left = run(main())
    assert [key for key, _ in fired] == ["a", "b"]
    assert fired[0][1] >= 0.05 - 0.002
    assert fired[1][1] >= 0.07 - 0.002
    assert left == 0


def test_discarded_entries_never_fire_and_the_next_one_still_does():
    async def main():
        loop = asyncio.get_running_loop()
        fired: list[str] = []
        queue = TimeoutQueue(loop, 0.03, fired.append)
        queue.add("a")
        await asyncio.sleep(0.01)
        queue.add("b")
        queue.discard("a")
        queue.discard("never added")
        await asyncio.sleep(0.025)
        assert fired == []  # a's old timer fired, found b not yet due, and re-armed
        await asyncio.sleep(0.03)
        return fired

    assert run(main()) == ["b"]


def test_adding_twice_keeps_the_first_deadline():
    async def main():
        loop = asyncio.get_running_loop()
        fired: list[str] = []
        queue = TimeoutQueue(loop, 0.04, fired.append)
        queue.add("a")
        await asyncio.sleep(0.03)
        queue.add("a")
        await asyncio.sleep(0.02)
        return fired

    assert run(main()) == ["a"]


def test_a_failing_callback_is_logged_and_the_rest_still_fire(caplog):
    def expired(key: str) -> None:
        if key == "bad":
            raise RuntimeError("boom")
        fired.append(key)

    fired: list[str] = []

    async def main():
        queue = TimeoutQueue(asyncio.get_running_loop(), 0.01, expired)
        queue.add("bad")
        queue.add("good")
        await asyncio.sleep(0.05)

    with caplog.at_level(logging.ERROR, logger="daphne.server"):
        run(main())
    assert fired == ["good"]
    assert "timeout handler" in caplog.text and "boom" in caplog.text


def test_callbacks_may_add_entries_and_close_forgets_everything():
    async def main():
        loop = asyncio.get_running_loop()
        fired: list[int] = []

        def expired(key: int) -> None:
            fired.append(key)
            if key < 3:
                queue.add(key + 1)

        queue = TimeoutQueue(loop, 0.01, expired)
        queue.add(1)
        await asyncio.sleep(0.1)
        queue.add(10)
        queue.close()
        await asyncio.sleep(0.03)
        return fired, len(queue)

    assert run(main()) == ([1, 2, 3], 0)


@pytest.mark.parametrize("delay", [0, -1])
def test_a_zero_or_negative_delay_expires_on_the_next_loop_pass(delay):
    async def main():
        fired: list[str] = []
        queue = TimeoutQueue(asyncio.get_running_loop(), delay, fired.append)
        queue.add("a")
        assert fired == []
        await asyncio.sleep(0.01)
        return fired

    assert run(main()) == ["a"]
