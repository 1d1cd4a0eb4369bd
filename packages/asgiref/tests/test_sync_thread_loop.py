"""A plain thread's own loop: calls run in the thread, hand the loop off when the thread is
needed for sync work, graduate to a thread of their own when work must go on between calls.

Every scenario runs in a fresh thread: the state of a thread's loop (graduated or not) is
the point of these tests, and the main thread's is shared by the whole test session.
Process-level scenarios (Ctrl-C, exit, fork) are in ``test_sync_lifecycle``.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from asgiref.sync import async_to_sync, sync_to_async

pytestmark = pytest.mark.timeout(60)

_T = TypeVar("_T")


def in_fresh_thread(body: Callable[[], _T]) -> _T:
    outcome: list[_T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(body())
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    if errors:
        raise errors[0]
    assert outcome, "the thread did not finish"
    return outcome[0]


def driver_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "asgiref-loop-driver"]


def test_each_plain_thread_reuses_its_own_loop_across_calls() -> None:
    async def running_loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def two_calls() -> tuple[asyncio.AbstractEventLoop, asyncio.AbstractEventLoop]:
        return async_to_sync(running_loop)(), async_to_sync(running_loop)()

    first, second = in_fresh_thread(two_calls)
    other, _ = in_fresh_thread(two_calls)
    assert first is second
    assert other is not first
    # A thread's loop ends with its thread.
    assert first.is_closed() and other.is_closed()


def test_a_call_that_needs_no_sync_work_runs_entirely_in_the_calling_thread() -> None:
    async def where() -> tuple[int, int]:
        await asyncio.sleep(0)
        return threading.get_ident(), threading.get_ident()

    def calls() -> list[bool]:
        caller = threading.get_ident()
        return [async_to_sync(where)() == (caller, caller) for _ in range(50)]

    assert in_fresh_thread(calls) == [True] * 50


def test_sync_inside_async_inside_sync_nests_on_the_handed_off_loop() -> None:
    # sync -> async -> sync -> async -> sync: the sync parts share the caller's thread, the
    # async parts share one loop, and nothing deadlocks, call after call.
    def one_call(n: int, caller: int) -> tuple[bool, bool, int]:
        loops: list[asyncio.AbstractEventLoop] = []

        def innermost() -> int:
            return threading.get_ident()

        async def inner() -> int:
            loops.append(asyncio.get_running_loop())
            return await sync_to_async(innermost)()

        def middle() -> int:
            assert threading.get_ident() == caller
            return async_to_sync(inner)()

        async def outer() -> int:
            loops.append(asyncio.get_running_loop())
            return await sync_to_async(middle)() + n

        thread = async_to_sync(outer)() - n
        return thread == caller, loops[0] is loops[1], n

    def calls() -> list[tuple[bool, bool, int]]:
        caller = threading.get_ident()
        return [one_call(n, caller) for n in range(30)]

    assert in_fresh_thread(calls) == [(True, True, n) for n in range(30)]


def test_thread_sensitive_work_from_a_helper_thread_still_reaches_the_caller() -> None:
    # The hand-off is requested by another thread (a thread_sensitive=False helper making
    # a nested call) while the caller is busy running its loop.
    def calls() -> list[bool]:
        caller = threading.get_ident()

        def sensitive() -> int:
            return threading.get_ident()

        async def inner() -> int:
            return await sync_to_async(sensitive)()

        async def outer() -> int:
            return await sync_to_async(async_to_sync(inner), thread_sensitive=False)()

        return [async_to_sync(outer)() == caller for _ in range(20)]

    assert in_fresh_thread(calls) == [True] * 20


def test_driver_threads_are_reused_from_call_to_call() -> None:
    def calls() -> int:
        async def body() -> None:
            await sync_to_async(lambda: None)()

        for _ in range(40):
            async_to_sync(body)()
        return len(driver_threads())

    # Sequential calls hand off one at a time: one driver serves them all (or drivers
    # left idle by earlier tests do), never one per call.
    before = len(driver_threads())
    assert in_fresh_thread(calls) <= max(before, 1)


def test_a_task_kept_alive_on_purpose_moves_the_loop_to_a_thread_of_its_own() -> None:
    ticks: list[int] = []
    stop = threading.Event()

    async def ticker() -> None:
        while not stop.is_set():
            ticks.append(1)
            await asyncio.sleep(0.005)

    async def spawn() -> None:
        contextvars.Context().run(asyncio.ensure_future, ticker())

    async def where() -> int:
        return threading.get_ident()

    def calls() -> tuple[int, int, int, bool]:
        before = async_to_sync(where)()
        async_to_sync(spawn)()
        after = async_to_sync(where)()
        # The background task goes on running with nobody calling (while this thread
        # lives: the loop ends with its owner).
        count = len(ticks)
        went_on = False
        for _ in range(1000):
            if len(ticks) >= count + 5:
                went_on = True
                break
            threading.Event().wait(0.01)
        stop.set()
        return before, after, threading.get_ident(), went_on

    before, after, caller, went_on = in_fresh_thread(calls)
    assert before == caller
    assert after != caller  # the loop graduated: later calls go to its thread
    assert went_on


def test_an_exception_escaping_the_loop_cancels_the_call_and_leaves_the_loop_usable() -> None:
    # What Ctrl-C does when it lands inside the loop's own code: the call's task is
    # cancelled (and may clean up), the exception reaches the caller.
    seen: list[str] = []

    def escape() -> None:
        raise KeyboardInterrupt

    async def interrupted() -> None:
        asyncio.get_running_loop().call_soon(escape)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def where() -> int:
        return threading.get_ident()

    def calls() -> tuple[str, int, int]:
        try:
            async_to_sync(interrupted)()
        except KeyboardInterrupt:
            outcome = "KeyboardInterrupt"
        else:
            outcome = "returned"
        return outcome, async_to_sync(where)(), threading.get_ident()

    outcome, where_after, caller = in_fresh_thread(calls)
    assert outcome == "KeyboardInterrupt"
    assert seen == ["cancelled"]
    assert where_after == caller


def test_a_coroutine_that_blocks_stalls_only_its_own_thread() -> None:
    # Thread A's coroutine blocks (a plain threading.Event wait, no await) until thread B's
    # call has run: with one loop shared by both threads this would never finish.
    b_ran = threading.Event()

    async def blocks() -> str:
        return "A" if b_ran.wait(20) else "A timed out"

    async def quick() -> str:
        b_ran.set()
        return "B"

    results: list[str] = []
    a = threading.Thread(target=lambda: results.append(async_to_sync(blocks)()))
    a.start()
    assert in_fresh_thread(lambda: async_to_sync(quick)()) == "B"
    a.join(30)
    assert results == ["A"]


def test_a_pending_timer_moves_the_loop_to_a_thread_of_its_own() -> None:
    # A client library's heartbeat: a timer scheduled on the loop, no task.
    fired = threading.Event()

    async def arm() -> int:
        asyncio.get_running_loop().call_later(0.05, fired.set)
        return threading.get_ident()

    def calls() -> tuple[bool, bool]:
        ran_here = async_to_sync(arm)() == threading.get_ident()
        return ran_here, fired.wait(20)  # fires with nobody calling

    assert in_fresh_thread(calls) == (True, True)
