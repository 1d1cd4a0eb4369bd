"""async_to_sync's call path from a plain thread: each call gets exactly its own outcome,
even when calls follow each other back to back on the thread's loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest
from asgiref._sync_to_async import awaiting_loop
from asgiref.sync import async_to_sync, sync_to_async

marker: contextvars.ContextVar[int] = contextvars.ContextVar("marker", default=-1)


class Boom(Exception):
    pass


async def finish_at_once(n: int) -> int:
    marker.set(n)
    return n


async def finish_later(n: int) -> int:
    await asyncio.sleep(0)
    marker.set(n)
    return n


async def fail(n: int) -> int:
    marker.set(n)
    raise Boom(n)


def test_back_to_back_calls_each_return_their_own_result_error_and_context() -> None:
    # Coroutines that finish without suspending complete before the caller starts
    # waiting; a wake-up left behind by one call must not end the next call early.
    bodies = [finish_at_once, finish_later, fail]
    for n in range(300):
        body = bodies[n % 3]
        if body is fail:
            with pytest.raises(Boom) as caught:
                async_to_sync(body)(n)
            assert caught.value.args == (n,)
        else:
            assert async_to_sync(body)(n) == n
        assert marker.get() == n


def test_calls_from_a_plain_thread_run_in_it_and_sync_work_still_comes_back() -> None:
    # The coroutine runs on the thread's own loop, in the thread; its thread-sensitive work
    # runs in the thread too, with no loop running there (Django's async-unsafe check).
    seen: dict[str, object] = {}

    def sensitive() -> None:
        seen["sensitive"] = threading.get_ident()
        seen["loop in sync code"] = asyncio._get_running_loop()

    async def body() -> None:
        seen["coroutine"] = threading.get_ident()
        await sync_to_async(sensitive)()
        seen["after"] = threading.get_ident()

    def calls() -> None:
        caller = threading.get_ident()
        for _ in range(20):
            seen.clear()
            async_to_sync(body)()
            assert seen["sensitive"] == seen["coroutine"] == caller
            assert seen["loop in sync code"] is None
            # The rest of the call ran on a driver thread, which took the loop over.
            assert seen["after"] != caller

    worker = threading.Thread(target=calls)
    worker.start()
    worker.join(30)
    assert "after" in seen


def test_a_call_that_starts_no_task_and_one_that_leaves_a_task_behind() -> None:
    leftovers: list[asyncio.Task[None]] = []

    async def plain() -> str:
        return "plain"

    async def leaves_a_task() -> str:
        leftovers.append(asyncio.ensure_future(asyncio.sleep(3600)))
        return "left"

    assert async_to_sync(plain)() == "plain"
    assert async_to_sync(leaves_a_task)() == "left"
    assert leftovers[0].cancelled()  # cancelled and awaited before the call returned
    assert async_to_sync(plain)() == "plain"


def test_awaiting_loop_is_none_outside_sync_to_async_and_restored_after() -> None:
    inside: list[asyncio.AbstractEventLoop | None] = []

    def record() -> None:
        inside.append(awaiting_loop())

    async def body() -> asyncio.AbstractEventLoop:
        await sync_to_async(record, thread_sensitive=False)()
        return asyncio.get_running_loop()

    assert awaiting_loop() is None
    loop = async_to_sync(body)()
    assert inside == [loop]
    assert awaiting_loop() is None

    fresh: list[asyncio.AbstractEventLoop | None] = []
    thread = threading.Thread(target=lambda: fresh.append(awaiting_loop()))
    thread.start()
    thread.join(10)
    assert fresh == [None]
