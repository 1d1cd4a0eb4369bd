"""Tasks and cancellation across nested bridges, and the thread_handler hook's shape."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Any

import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, async_to_sync, sync_to_async

pytestmark = pytest.mark.timeout(30)


def test_a_task_started_by_a_nested_call_on_the_awaiting_loop_keeps_running() -> None:
    # Sync code starting background work on the application's loop: the task must survive
    # the nested async_to_sync call that created it.
    async def start() -> asyncio.Task[str]:
        return asyncio.ensure_future(sync_to_async(lambda: "done")())

    async def main() -> str:
        task: asyncio.Task[str] = await sync_to_async(async_to_sync(start))()
        return await task

    assert async_to_sync(main)() == "done"


def test_tasks_of_a_nested_call_still_end_with_the_outermost_call() -> None:
    started = threading.Event()
    outcome: list[str] = []

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    background: list[asyncio.Task[None]] = []

    async def start() -> None:
        background.append(asyncio.ensure_future(forever()))

    async def main() -> None:
        await sync_to_async(async_to_sync(start))()
        await asyncio.sleep(0)

    async_to_sync(main)()
    assert started.is_set()
    assert outcome == ["cancelled"]


async def test_cancelling_sync_code_reaches_its_nested_async_call_which_may_finish() -> None:
    # Django's shape: an http.disconnect cancels the request while a sync middleware runs
    # an async view that shields work which must complete.
    view_started = asyncio.Event()
    release = asyncio.Event()
    events: list[str] = []

    async def view() -> str:
        work = asyncio.ensure_future(release.wait())
        view_started.set()
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            events.append("view saw the cancellation")
            release.set()
            await work
        return "view result"

    def middleware() -> str:
        result: str = async_to_sync(view)()
        events.append("middleware finished")
        return result

    async with ThreadSensitiveContext():
        request = asyncio.ensure_future(sync_to_async(middleware)())
        await view_started.wait()
        request.cancel()
        assert await request == "view result"
    assert events == ["view saw the cancellation", "middleware finished"]


async def test_a_nested_call_that_does_not_absorb_the_cancellation_cancels_the_caller() -> None:
    view_started = asyncio.Event()

    async def view() -> None:
        view_started.set()
        await asyncio.sleep(3600)

    def middleware() -> None:
        async_to_sync(view)()

    request = asyncio.ensure_future(sync_to_async(middleware)())
    await view_started.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request


async def test_thread_handler_receives_the_bound_call_as_a_partial() -> None:
    # APM agents (New Relic) override thread_handler and edit the partial's keywords.
    seen: list[functools.partial[Any]] = []

    class Instrumented(SyncToAsync[Any, Any]):
        def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
            child = args[-1]
            seen.append(child)
            child.keywords.pop("injected", None)
            return super().thread_handler(loop, *args, **kwargs)

    def add(a: int, b: int) -> int:
        return a + b

    assert await Instrumented(add)(1, b=2, injected=True) == 3
    assert seen[0].func is add
    assert seen[0].args == (1,)
