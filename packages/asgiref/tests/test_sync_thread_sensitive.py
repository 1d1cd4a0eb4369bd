"""Which thread thread-sensitive sync_to_async calls run in."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import (
    AsyncSingleThreadContext,
    ThreadSensitiveContext,
    async_to_sync,
    sync_to_async,
)

pytestmark = pytest.mark.timeout(30)


def current() -> str:
    return threading.current_thread().name


def test_runs_in_the_thread_that_called_async_to_sync() -> None:
    async def where() -> str:
        return await sync_to_async(current)()

    assert async_to_sync(where)() == current()


def test_runs_in_a_plain_threads_own_thread_when_it_called_async_to_sync() -> None:
    async def where() -> str:
        return await sync_to_async(current)()

    seen: list[tuple[str, str]] = []
    worker = threading.Thread(target=lambda: seen.append((current(), async_to_sync(where)())))
    worker.start()
    worker.join(20)
    assert seen[0][0] == seen[0][1]


def test_non_sensitive_calls_do_not_run_in_the_calling_thread() -> None:
    async def where() -> str:
        return await sync_to_async(current, thread_sensitive=False)()

    assert async_to_sync(where)() != current()


async def test_without_async_to_sync_all_calls_share_one_thread() -> None:
    names = await asyncio.gather(*(sync_to_async(current)() for _ in range(5)))
    assert len(set(names)) == 1
    assert names[0] != current()


async def test_thread_sensitive_context_gets_its_own_thread() -> None:
    outside = await sync_to_async(current)()
    async with ThreadSensitiveContext():
        first = await sync_to_async(current)()
        second = await sync_to_async(current)()
    assert first == second
    assert first != outside


async def test_separate_contexts_run_in_parallel_threads() -> None:
    barrier = threading.Barrier(2, timeout=10)

    async def request() -> int:
        async with ThreadSensitiveContext():
            return await sync_to_async(lambda: (barrier.wait(), threading.get_ident())[1])()

    # Both requests must be inside their thread-sensitive code at the same time.
    first, second = await asyncio.gather(request(), request())
    assert first != second


async def test_nested_thread_sensitive_context_reuses_the_outer_thread() -> None:
    async with ThreadSensitiveContext():
        outer = await sync_to_async(current)()
        async with ThreadSensitiveContext():
            inner = await sync_to_async(current)()
    assert inner == outer


async def test_thread_sensitive_context_thread_ends_after_the_context() -> None:
    async with ThreadSensitiveContext():
        name = await sync_to_async(current)()
        thread = next(t for t in threading.enumerate() if t.name == name)
    await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive()


async def test_thread_sensitive_context_executor_keyword() -> None:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ctx-pool") as executor:
        async with ThreadSensitiveContext(executor=executor):
            name = await sync_to_async(current)()
        assert name.startswith("ctx-pool")
        # The caller owns the executor: still usable after the context.
        assert executor.submit(lambda: 1).result() == 1


def test_thread_sensitive_context_wins_over_the_async_to_sync_thread() -> None:
    # Like Django's async tests: the whole ASGI handler runs under async_to_sync, and each
    # request's ThreadSensitiveContext must still get its own thread, so that concurrent
    # requests run concurrently (Django's asgi tests check exactly this).
    barrier = threading.Barrier(2, timeout=10)

    def view() -> int:
        barrier.wait()
        return threading.get_ident()

    async def request() -> int:
        async with ThreadSensitiveContext():
            return await sync_to_async(view)()

    async def two_requests() -> list[int]:
        return list(await asyncio.gather(request(), request()))

    first, second = async_to_sync(two_requests)()
    assert first != second
    assert threading.get_ident() not in (first, second)


def test_async_single_thread_context_runs_all_calls_on_one_loop() -> None:
    async def loop_thread() -> str:
        return current()

    def from_a_non_sensitive_thread() -> str:
        result: str = async_to_sync(loop_thread)()
        return result

    async def chain() -> str:
        return await sync_to_async(from_a_non_sensitive_thread, thread_sensitive=False)()

    with AsyncSingleThreadContext():
        first = async_to_sync(loop_thread)()
        second = async_to_sync(chain)()
        nested = async_to_sync(chain)()
    assert first == second == nested


def test_async_single_thread_context_is_reentrant() -> None:
    async def loop_id() -> int:
        return id(asyncio.get_running_loop())

    with AsyncSingleThreadContext() as outer:
        first = async_to_sync(loop_id)()
        with AsyncSingleThreadContext() as inner:
            second = async_to_sync(loop_id)()
        third = async_to_sync(loop_id)()
    assert outer is not inner
    assert first == second == third


async def test_task_outliving_its_context_uses_the_shared_thread_and_starts_none() -> None:
    gate = asyncio.Event()

    async def late_call() -> str:
        await gate.wait()
        return await sync_to_async(current)()

    async with ThreadSensitiveContext():
        straggler = asyncio.ensure_future(late_call())
    before = {t.name for t in threading.enumerate()}
    gate.set()
    name = await straggler
    assert name == "asgiref-thread-sensitive"
    started = {t.name for t in threading.enumerate()} - before
    assert not any(n.startswith("asgiref-thread-sensitive-context") for n in started)


def test_nested_call_from_a_non_sensitive_thread_comes_back_to_the_outermost_caller() -> None:
    # sync (this thread) -> async -> sync (pool thread) -> async -> thread-sensitive sync:
    # the last step runs where the thread-bound state lives, in the outermost caller.
    async def innermost() -> str:
        return await sync_to_async(current)()

    def pool_step() -> tuple[str, str]:
        return current(), async_to_sync(innermost)()

    async def outer() -> tuple[str, str]:
        return await sync_to_async(pool_step, thread_sensitive=False)()

    pool_thread, sensitive_thread = async_to_sync(outer)()
    assert pool_thread != current()
    assert sensitive_thread == current()
