"""Which thread thread-sensitive sync_to_async calls run in."""

from __future__ import annotations

import asyncio
import gc
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import (
    AsyncSingleThreadContext,
    ThreadSensitiveContext,
    async_to_sync,
    sync_to_async,
)
from asgiref.testing import ApplicationCommunicator

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


def test_the_async_to_sync_thread_wins_over_a_thread_sensitive_context() -> None:
    # As in asgiref 3.13: under a sync caller (a Django TestCase's async test method), sync
    # code goes back to the caller's thread, where its database connection and
    # transaction live, also inside a request's ThreadSensitiveContext.
    async def request() -> int:
        async with ThreadSensitiveContext():
            return await sync_to_async(threading.get_ident)()

    assert async_to_sync(request)() == threading.get_ident()


def test_requests_started_in_a_fresh_context_get_their_own_threads() -> None:
    # A server (and ApplicationCommunicator) starts each application in a fresh context, so
    # each request's ThreadSensitiveContext gets its own thread and requests run
    # concurrently, also when the whole test runs under async_to_sync.
    barrier = threading.Barrier(2, timeout=10)

    def view() -> int:
        barrier.wait()
        return threading.get_ident()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async with ThreadSensitiveContext():
            await send({"type": "thread", "ident": await sync_to_async(view)()})

    async def two_requests() -> list[int]:
        first = ApplicationCommunicator(app, {"type": "test"})
        second = ApplicationCommunicator(app, {"type": "test"})
        outputs = await asyncio.gather(first.receive_output(10), second.receive_output(10))
        return [output["ident"] for output in outputs]

    first, second = async_to_sync(two_requests)()
    assert first != second
    assert threading.get_ident() not in (first, second)


def test_a_task_started_in_a_fresh_context_inside_a_call_uses_the_calls_thread() -> None:
    # As 3.x did for tasks on the loop of its async_to_sync call: an application started by
    # ApplicationCommunicator in a Django async test reaches the test's thread.
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "thread", "ident": await sync_to_async(threading.get_ident)()})

    async def run() -> int:
        output = await ApplicationCommunicator(app, {"type": "test"}).receive_output(10)
        ident: int = output["ident"]
        return ident

    assert async_to_sync(run)() == threading.get_ident()


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


async def test_a_task_outliving_its_context_gets_a_thread_that_ends_with_the_context() -> None:
    # As in asgiref 3.13: the late call gets a fresh thread of the exited context (never
    # the shared one, where it could queue behind unrelated work), stopped once the
    # context is garbage.
    gate = asyncio.Event()

    async def late_call() -> str:
        await gate.wait()
        return await sync_to_async(current)()

    context = ThreadSensitiveContext()
    async with context:
        inside = await sync_to_async(current)()
        straggler = asyncio.ensure_future(late_call())
    gate.set()
    late = await straggler
    assert late != inside
    assert late.startswith("asgiref-thread-sensitive-context-")
    thread = next(t for t in threading.enumerate() if t.name == late)
    del context, straggler
    gc.collect()
    await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive()


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


def test_an_executor_context_is_used_even_under_async_to_sync_and_then_restored() -> None:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="own-pool") as pool:

        async def view() -> tuple[str, str, str]:
            before = await sync_to_async(current)()
            async with ThreadSensitiveContext(executor=pool):
                inside = await sync_to_async(current)()
            after = await sync_to_async(current)()
            return before, inside, after

        before, inside, after = async_to_sync(view)()
        assert before == after == current()
        assert inside.startswith("own-pool")
        # The caller owns the executor: it still works.
        assert pool.submit(lambda: 1).result() == 1


def test_sync_code_in_an_executor_context_can_call_back_into_async_code() -> None:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="own-pool") as pool:

        async def inner() -> str:
            return await sync_to_async(current)()

        def in_pool() -> tuple[str, str]:
            return current(), async_to_sync(inner)()

        async def view() -> tuple[str, str]:
            async with ThreadSensitiveContext(executor=pool):
                return await sync_to_async(in_pool)()

        pool_thread, inner_thread = async_to_sync(view)()
        assert pool_thread == inner_thread
        assert pool_thread.startswith("own-pool")


async def test_an_executor_context_is_single_use() -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        context = ThreadSensitiveContext(executor=pool)
        async with context:
            with pytest.raises(RuntimeError, match="already entered"):
                async with context:
                    pass
        with pytest.raises(RuntimeError, match="cannot be entered again"):
            async with context:
                pass


async def test_a_task_outliving_an_executor_context_cannot_make_sensitive_calls() -> None:
    gate = asyncio.Event()

    async def late() -> str:
        await gate.wait()
        return await sync_to_async(current)()

    with ThreadPoolExecutor(max_workers=1) as pool:
        async with ThreadSensitiveContext(executor=pool):
            straggler = asyncio.ensure_future(late())
        gate.set()
        with pytest.raises(RuntimeError, match="has exited"):
            await straggler


async def test_the_3x_introspection_names_exist() -> None:
    from asgiref.sync import AsyncToSync, SyncToAsync

    assert AsyncToSync.executors.current is None
    with ThreadPoolExecutor(max_workers=1) as pool:
        async with ThreadSensitiveContext(executor=pool) as context:
            assert SyncToAsync.thread_sensitive_context.get() is context
            assert SyncToAsync.context_to_thread_executor[context] is pool
        assert context not in SyncToAsync.context_to_thread_executor
    assert SyncToAsync.thread_sensitive_context.get(None) is None
