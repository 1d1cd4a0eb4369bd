"""An async_to_sync wrapper made on a running loop runs its calls on that loop (3.8-3.11)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from asgiref.sync import async_to_sync, sync_to_async

pytestmark = pytest.mark.timeout(30)

_T = TypeVar("_T")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


async def running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


async def in_thread(call: Callable[[], _T]) -> _T:
    """Run ``call`` in a plain threading.Thread while this loop keeps running."""
    results: list[_T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(call())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    while thread.is_alive():
        await asyncio.sleep(0.005)
    if errors:
        raise errors[0]
    return results[0]


def test_a_run_in_executor_caller_lands_on_the_loop_that_created_the_wrapper() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        wrapper = async_to_sync(running_loop)
        assert await loop.run_in_executor(None, wrapper) is loop

    asyncio.run(main())


def test_a_plain_thread_caller_lands_on_the_loop_that_created_the_wrapper() -> None:
    loop_threads: list[threading.Thread] = []

    async def where() -> asyncio.AbstractEventLoop:
        loop_threads.append(threading.current_thread())
        return asyncio.get_running_loop()

    async def main() -> None:
        wrapper = async_to_sync(where)
        assert await in_thread(wrapper) is asyncio.get_running_loop()

    asyncio.run(main())
    assert loop_threads == [threading.main_thread()]


def test_an_object_bound_to_the_creator_loop_works_from_a_worker_thread() -> None:
    # The django-channels-graphql-ws pattern: a wrapper around loop-bound objects.
    async def main() -> None:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()

        async def wait_for_answer() -> str:
            return await answer

        pending = loop.run_in_executor(None, async_to_sync(wait_for_answer))
        await asyncio.sleep(0.05)
        answer.set_result("answered on the creator loop")
        assert await asyncio.wait_for(pending, timeout=5) == "answered on the creator loop"

    asyncio.run(main())


def test_a_closed_creator_loop_falls_back_to_the_usual_loop() -> None:
    async def make() -> Callable[[], asyncio.AbstractEventLoop]:
        return async_to_sync(running_loop)

    creator = asyncio.new_event_loop()
    wrapper = creator.run_until_complete(make())
    creator.close()
    used = wrapper()
    assert used is not creator
    assert not used.is_closed()


def test_a_stopped_creator_loop_falls_back_instead_of_hanging() -> None:
    # Stopped but not closed (a test loop between tests): nothing would ever run the call.
    async def make() -> Callable[[], asyncio.AbstractEventLoop]:
        return async_to_sync(running_loop)

    creator = asyncio.new_event_loop()
    try:
        wrapper = creator.run_until_complete(make())
        results: list[asyncio.AbstractEventLoop] = []
        thread = threading.Thread(target=lambda: results.append(wrapper()), daemon=True)
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "async_to_sync waited on a stopped loop"
        assert results[0] is not creator
    finally:
        creator.close()


def test_calling_the_wrapper_in_the_creator_loops_own_thread_still_raises() -> None:
    async def main() -> None:
        wrapper = async_to_sync(running_loop)
        with pytest.raises(RuntimeError, match="just await the async function directly"):
            wrapper()

    asyncio.run(main())


def test_context_variables_cross_to_the_creator_loop_and_back() -> None:
    async def read_and_set() -> tuple[str, asyncio.AbstractEventLoop]:
        seen = request_id.get()
        request_id.set("set by the coroutine")
        return seen, asyncio.get_running_loop()

    def caller(wrapper: Callable[[], tuple[str, asyncio.AbstractEventLoop]]) -> tuple[str, ...]:
        request_id.set("set by the worker")
        seen, loop = wrapper()
        return seen, request_id.get(), str(loop is creator[0])

    creator: list[asyncio.AbstractEventLoop] = []

    async def main() -> tuple[str, ...]:
        creator.append(asyncio.get_running_loop())
        wrapper = async_to_sync(read_and_set)
        return await in_thread(lambda: caller(wrapper))

    assert asyncio.run(main()) == ("set by the worker", "set by the coroutine", "True")
    assert request_id.get() == "none"


def test_an_exception_on_the_creator_loop_propagates_to_the_calling_thread() -> None:
    class Boom(Exception):
        pass

    raised_on: list[asyncio.AbstractEventLoop] = []

    async def fail() -> None:
        raised_on.append(asyncio.get_running_loop())
        raise Boom("from the creator loop")

    async def main() -> None:
        wrapper = async_to_sync(fail)
        with pytest.raises(Boom, match="from the creator loop"):
            await asyncio.get_running_loop().run_in_executor(None, wrapper)
        assert raised_on == [asyncio.get_running_loop()]

    asyncio.run(main())


def test_thread_sensitive_code_inside_such_a_call_comes_back_to_the_calling_thread() -> None:
    def thread_name() -> str:
        return threading.current_thread().name

    async def nested() -> tuple[str, asyncio.AbstractEventLoop]:
        name = await sync_to_async(thread_name)()
        return name, asyncio.get_running_loop()

    def caller(wrapper: Callable[[], tuple[str, asyncio.AbstractEventLoop]]) -> tuple[str, ...]:
        name, loop = wrapper()
        return name, threading.current_thread().name, str(loop is creator[0])

    creator: list[asyncio.AbstractEventLoop] = []

    async def main() -> tuple[str, ...]:
        creator.append(asyncio.get_running_loop())
        wrapper = async_to_sync(nested)
        return await asyncio.wait_for(in_thread(lambda: caller(wrapper)), timeout=10)

    ran_in, called_from, on_creator = asyncio.run(main())
    assert ran_in == called_from
    assert on_creator == "True"


def test_tasks_a_call_leaves_on_the_creator_loop_keep_running() -> None:
    # The creator loop is the application's loop, which outlives the call (as in 3.x).
    async def start() -> asyncio.Task[str]:
        async def later() -> str:
            await asyncio.sleep(0.01)
            return "finished"

        return asyncio.ensure_future(later())

    async def main() -> str:
        wrapper = async_to_sync(start)
        task = await asyncio.get_running_loop().run_in_executor(None, wrapper)
        return await task

    assert asyncio.run(main()) == "finished"


def test_force_new_loop_ignores_the_creator_loop() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        wrapper = async_to_sync(running_loop, force_new_loop=True)
        assert await loop.run_in_executor(None, wrapper) is not loop

    asyncio.run(main())
