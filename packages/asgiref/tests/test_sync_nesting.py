"""Nested sync/async chains, threads, tasks, timeouts and cancellation never deadlock.

Every test carries a short pytest-timeout so that a deadlock fails the test instead of
hanging the run.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

pytestmark = pytest.mark.timeout(30)


def current() -> str:
    return threading.current_thread().name


def test_sync_async_sync_async_nesting_does_not_deadlock() -> None:
    trail: list[str] = []

    async def innermost() -> str:
        trail.append("async 2")
        await asyncio.sleep(0)
        return "done"

    def middle_sync() -> str:
        trail.append("sync 2")
        result: str = async_to_sync(innermost)()
        return result

    async def middle_async() -> str:
        trail.append("async 1")
        return await sync_to_async(middle_sync)()

    assert async_to_sync(middle_async)() == "done"
    assert trail == ["async 1", "sync 2", "async 2"]


def test_deep_alternating_nesting_stays_on_the_calling_thread() -> None:
    outer = current()

    def sync_level(depth: int) -> list[str]:
        here = current()
        if depth == 0:
            return [here]
        return [here, *async_to_sync(async_level)(depth - 1)]

    async def async_level(depth: int) -> list[str]:
        return await sync_to_async(sync_level)(depth)

    assert async_to_sync(async_level)(6) == [outer] * 7


def test_thread_started_in_sync_to_async_can_call_async_to_sync() -> None:
    async def leaf() -> str:
        return await sync_to_async(current)()

    def starts_a_thread() -> tuple[str, str]:
        seen: list[str] = []
        worker = threading.Thread(
            target=lambda: seen.append(async_to_sync(leaf)()), name="started-inside"
        )
        worker.start()
        worker.join(20)
        assert not worker.is_alive(), "async_to_sync in the started thread deadlocked"
        return current(), seen[0]

    async def outer() -> tuple[str, str]:
        return await sync_to_async(starts_a_thread)()

    sync_thread, leaf_thread = async_to_sync(outer)()
    assert sync_thread == current()
    # The started thread is blocked in its own async_to_sync, so its thread-sensitive work
    # runs there.
    assert leaf_thread == "started-inside"


def test_thread_started_in_non_sensitive_sync_to_async_can_call_async_to_sync() -> None:
    async def leaf() -> int:
        await asyncio.sleep(0)
        return 7

    def starts_threads() -> list[int]:
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda: results.append(async_to_sync(leaf)())) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        return results

    async def outer() -> list[int]:
        return await sync_to_async(starts_threads, thread_sensitive=False)()

    assert async_to_sync(outer)() == [7, 7, 7, 7]


def test_tasks_created_in_async_to_sync_are_cancelled_and_awaited_when_it_returns() -> None:
    # asyncio.run semantics, as in asgiref 3.x: a fire-and-forget task does not keep running
    # into the caller's next steps, and its cleanup has finished when the call returns.
    events: list[str] = []

    async def background() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            events.append("cancelled")
            await asyncio.sleep(0.01)  # cleanup that itself awaits
            events.append("cleaned up")
            raise

    async def spawn() -> str:
        asyncio.get_running_loop().create_task(background())
        await asyncio.sleep(0)
        return "returned"

    assert async_to_sync(spawn)() == "returned"
    assert events == ["cancelled", "cleaned up"]


def test_tasks_started_by_leftover_tasks_are_cancelled_too() -> None:
    events: list[str] = []

    async def grandchild() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            events.append("grandchild cancelled")
            raise

    started: list[asyncio.Task[None]] = []

    async def child() -> None:
        started.append(asyncio.ensure_future(grandchild()))
        await asyncio.sleep(3600)

    async def spawn() -> None:
        started.append(asyncio.ensure_future(child()))
        await asyncio.sleep(0.01)

    async_to_sync(spawn)()
    assert events == ["grandchild cancelled"]
    assert all(task.cancelled() for task in started)


def test_concurrent_calls_only_cancel_their_own_tasks() -> None:
    other_started = threading.Event()
    release = threading.Event()
    outcome: list[str] = []

    async def long_call() -> str:
        async def sibling_work() -> str:
            await asyncio.to_thread(release.wait, 20)
            return "finished"

        task = asyncio.ensure_future(sibling_work())
        other_started.set()
        return await task

    worker = threading.Thread(target=lambda: outcome.append(async_to_sync(long_call)()))
    worker.start()
    assert other_started.wait(20)

    leftovers: list[asyncio.Task[None]] = []

    async def short_call() -> None:
        leftovers.append(asyncio.ensure_future(asyncio.sleep(3600)))  # its own leftover

    async_to_sync(short_call)()
    assert leftovers[0].cancelled()
    release.set()
    worker.join(20)
    assert outcome == ["finished"]


def test_tasks_started_in_a_fresh_context_outlive_the_call() -> None:
    # The documented way to keep a background task across calls.
    finished = threading.Event()
    gates: list[asyncio.Event] = []

    async def background(gate: asyncio.Event) -> None:
        await gate.wait()
        # The caller's thread has moved on: thread-sensitive work goes to the shared thread.
        assert await sync_to_async(current)() == "asgiref-thread-sensitive"
        finished.set()

    async def spawn() -> None:
        gate = asyncio.Event()
        gates.append(gate)
        contextvars.Context().run(asyncio.ensure_future, background(gate))

    async def open_gate() -> None:
        gates[0].set()

    async_to_sync(spawn)()
    async_to_sync(open_gate)()
    assert finished.wait(10)


def test_tasks_created_in_async_to_sync_with_force_new_loop_are_cancelled_on_return() -> None:
    outcome: list[str] = []

    async def background() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    async def spawn() -> None:
        asyncio.get_running_loop().create_task(background())
        await asyncio.sleep(0)

    async_to_sync(spawn, force_new_loop=True)()
    assert outcome == ["cancelled"]


def test_tasks_awaited_inside_async_to_sync_complete_before_it_returns() -> None:
    async def child(value: int) -> int:
        await asyncio.sleep(0.01)
        return value + await sync_to_async(lambda: 1)()

    async def parent() -> list[int]:
        tasks = [asyncio.ensure_future(child(i)) for i in range(5)]
        return list(await asyncio.gather(*tasks))

    assert async_to_sync(parent)() == [1, 2, 3, 4, 5]


async def test_wait_for_timeout_around_sync_to_async_returns_promptly() -> None:
    release = threading.Event()
    finished = threading.Event()

    def slow() -> None:
        release.wait(20)
        finished.set()

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(sync_to_async(slow)(), timeout=0.05)
    # The caller got control back while the function is still running in its thread.
    assert not finished.is_set()
    release.set()
    assert await asyncio.to_thread(finished.wait, 10)


def test_wait_for_timeout_around_sync_to_async_inside_async_to_sync_does_not_hang() -> None:
    # The thread-sensitive function runs in the thread blocked in async_to_sync; the
    # timeout returns control to the coroutine, which then finishes once the thread is free.
    release = threading.Event()

    def slow() -> str:
        release.wait(20)
        return "finished"

    async def with_timeout() -> str:
        try:
            await asyncio.wait_for(sync_to_async(slow)(), timeout=0.05)
        except asyncio.TimeoutError:
            release.set()
            return "timed out"
        return "no timeout"

    assert async_to_sync(with_timeout)() == "timed out"
    # A thread-sensitive call afterwards still works (nothing was left wedged).
    assert async_to_sync(sync_to_async(lambda: "alive"))() == "alive"


async def test_cancellation_around_sync_to_async_reaches_the_caller_promptly() -> None:
    started = threading.Event()
    release = threading.Event()
    finished = threading.Event()

    def blocking() -> None:
        started.set()
        release.wait(20)
        finished.set()

    task = asyncio.ensure_future(sync_to_async(blocking, thread_sensitive=False)())
    assert await asyncio.to_thread(started.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not finished.is_set()
    release.set()
    assert await asyncio.to_thread(finished.wait, 10)


async def test_cancellation_around_sync_to_async_before_it_starts_skips_the_function() -> None:
    # A second thread-sensitive call queues behind the first; cancelling it before it
    # starts means it never runs.
    release = threading.Event()
    ran: list[str] = []

    async with ThreadSensitiveContext():
        first = asyncio.ensure_future(sync_to_async(lambda: release.wait(20))())
        second = asyncio.ensure_future(sync_to_async(lambda: ran.append("second"))())
        await asyncio.sleep(0.05)
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        release.set()
        await first
        await sync_to_async(lambda: None)()  # the queue has drained past "second"
    assert ran == []


def test_cancellation_inside_async_to_sync_surfaces_as_cancelled_error() -> None:
    async def cancels_itself() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(1)

    with pytest.raises(asyncio.CancelledError):
        async_to_sync(cancels_itself)()


async def test_sync_to_async_inside_sync_to_async_thread_via_async_to_sync() -> None:
    # async (test loop) -> sync (worker) -> async (test loop) -> sync: the inner
    # thread-sensitive call runs in the thread blocked in the inner async_to_sync.
    def inner_sync() -> str:
        return current()

    async def inner_async() -> str:
        return await sync_to_async(inner_sync)()

    def outer_sync() -> tuple[str, str]:
        return current(), async_to_sync(inner_async)()

    outer_thread, inner_thread = await sync_to_async(outer_sync)()
    assert outer_thread == inner_thread


async def test_many_concurrent_nested_chains_complete() -> None:
    async def leaf(value: int) -> int:
        await asyncio.sleep(0.001)
        return await sync_to_async(lambda: value * 2)()

    def middle(value: int) -> int:
        result: int = async_to_sync(leaf)(value)
        return result

    async def chain(value: int) -> int:
        async with ThreadSensitiveContext():
            return await sync_to_async(middle)(value)

    results = await asyncio.gather(*(chain(i) for i in range(20)))
    assert results == [i * 2 for i in range(20)]


async def test_thread_sensitive_worker_blocked_in_async_to_sync_still_serves_others() -> None:
    # Request A's thread-sensitive function blocks inside async_to_sync, waiting for request
    # B, whose thread-sensitive call is queued on the same worker: the worker serves B from
    # inside A's nested call instead of deadlocking.
    b_done = asyncio.Event()

    async def wait_for_b() -> None:
        # Runs on this test's loop: the loop awaiting request_a's sync_to_async call.
        await b_done.wait()

    def request_a() -> str:
        async_to_sync(wait_for_b)()
        return "a"

    async def request_b() -> str:
        await asyncio.sleep(0.05)
        result = await sync_to_async(lambda: "b")()
        b_done.set()
        return result

    results = await asyncio.gather(sync_to_async(request_a)(), request_b())
    assert results == ["a", "b"]


def test_many_threads_running_nested_chains_concurrently_all_finish() -> None:
    # Races between submissions, nested run loops and closing executors show up here as a
    # hang (caught by the module timeout) or a wrong result.
    async def leaf(value: int) -> int:
        await asyncio.sleep(0)
        return value

    def sync_middle(value: int) -> int:
        result: int = async_to_sync(leaf)(value)
        return result + 1

    async def top(value: int) -> list[int]:
        sensitive = sync_to_async(sync_middle)
        pooled = sync_to_async(sync_middle, thread_sensitive=False)
        return list(await asyncio.gather(sensitive(value), pooled(value), leaf(value)))

    failures: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for step in range(30):
                value = index * 100 + step
                assert async_to_sync(top)(value) == [value + 1, value + 1, value]
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(25)
    assert not any(thread.is_alive() for thread in threads), "a nested chain deadlocked"
    assert failures == []
