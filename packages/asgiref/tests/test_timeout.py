"""asgiref.timeout.timeout: converts only its own cancellation into TimeoutError."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.timeout import timeout


async def test_block_finishing_in_time_is_untouched() -> None:
    async with timeout(5) as limit:
        await asyncio.sleep(0)
    assert not limit.expired


async def test_slow_block_raises_timeout_error() -> None:
    with pytest.raises(asyncio.TimeoutError):
        async with timeout(0.01) as limit:
            await asyncio.sleep(10)
    assert limit.expired


async def test_none_means_no_limit() -> None:
    async with timeout(None) as limit:
        await asyncio.sleep(0.01)
    assert limit.remaining is None


async def test_remaining_counts_down() -> None:
    async with timeout(100) as limit:
        remaining = limit.remaining
        assert remaining is not None
        assert 0 < remaining <= 100


async def test_outside_cancellation_is_not_converted() -> None:
    async def guarded() -> None:
        async with timeout(100):
            await asyncio.sleep(10)

    task = asyncio.ensure_future(guarded())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_negative_timeout_is_rejected() -> None:
    with pytest.raises(ValueError, match="got -1"):
        timeout(-1)


async def test_code_after_the_block_keeps_running_after_a_timeout() -> None:
    with pytest.raises(asyncio.TimeoutError):
        async with timeout(0.01):
            await asyncio.sleep(10)
    # The task was uncancelled: further awaits work normally.
    await asyncio.sleep(0.01)
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0
