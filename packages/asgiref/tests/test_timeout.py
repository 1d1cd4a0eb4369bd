"""asgiref.timeout.timeout: converts only its own cancellation into TimeoutError."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.timeout import timeout

# Deprecated (asgiref 3.13), still working: the behaviour tests below ignore the warning.
pytestmark = pytest.mark.filterwarnings(
    "ignore:asgiref.timeout.timeout is deprecated:DeprecationWarning"
)


async def test_creating_a_timeout_warns_that_it_is_deprecated_for_asyncio_timeout() -> None:
    with pytest.warns(DeprecationWarning, match=r"Use asyncio\.timeout\(\) instead"):
        limit = timeout(1)
    async with limit:
        await asyncio.sleep(0)
    assert not limit.expired


async def test_passing_a_loop_warns_that_the_loop_argument_is_deprecated() -> None:
    loop = asyncio.get_running_loop()
    with pytest.warns(DeprecationWarning, match="loop argument"):
        timeout(1, loop=loop)


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
