"""sync_to_async: results, errors, decorator forms, executor= and context= keywords."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import SyncToAsync, async_to_sync, iscoroutinefunction, sync_to_async


async def test_returns_the_function_result() -> None:
    assert await sync_to_async(lambda a, b: a + b)(2, b=3) == 5


async def test_is_a_real_class_instance_preserving_metadata() -> None:
    def documented() -> int:
        """Sync docstring."""
        return 1

    wrapped = sync_to_async(documented)
    assert isinstance(wrapped, SyncToAsync)
    assert wrapped.__name__ == "documented"
    assert wrapped.__doc__ == "Sync docstring."
    assert iscoroutinefunction(wrapped)
    if sys.version_info >= (3, 12):
        assert inspect.iscoroutinefunction(wrapped)
    else:
        assert asyncio.iscoroutinefunction(wrapped)
    assert await wrapped() == 1


async def test_decorator_without_arguments() -> None:
    @sync_to_async
    def thread_name() -> str:
        return threading.current_thread().name

    assert await thread_name() != threading.current_thread().name


async def test_decorator_with_arguments() -> None:
    @sync_to_async(thread_sensitive=False)
    def square(value: int) -> int:
        return value * value

    assert await square(7) == 49


async def test_decorates_methods_and_keeps_them_coroutine_functions() -> None:
    class Thing:
        base = 10

        @sync_to_async
        def add(self, value: int) -> int:
            return self.base + value

    thing = Thing()
    assert iscoroutinefunction(thing.add)
    assert await thing.add(5) == 15


async def test_exception_propagates_with_its_traceback() -> None:
    def sync_failure() -> None:
        raise LookupError("nope")

    with pytest.raises(LookupError, match="nope") as info:
        await sync_to_async(sync_failure)()
    frames = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert "sync_failure" in frames


def test_rejects_async_functions() -> None:
    async def already_async() -> None:
        pass

    with pytest.raises(TypeError, match="can only be applied to sync functions"):
        sync_to_async(already_async)


def test_rejects_a_non_callable_with_the_3x_message() -> None:
    with pytest.raises(TypeError) as info:
        sync_to_async("nope")  # type: ignore[call-overload]
    assert info.value.args == ("sync_to_async can only be applied to sync functions.",)


def test_rejects_a_partial_of_an_async_function_and_an_async_callable_object() -> None:
    async def already_async(value: int) -> None:
        pass

    class AsyncCallable:
        async def __call__(self) -> None:
            pass

    for func in (functools.partial(already_async, 1), AsyncCallable()):
        with pytest.raises(TypeError) as info:
            sync_to_async(func)  # type: ignore[arg-type]
        assert info.value.args == ("sync_to_async can only be applied to sync functions.",)


def test_a_context_attribute_of_the_wrapped_callable_does_not_replace_the_context() -> None:
    class WithContext:
        context = "not a contextvars.Context"

        def __call__(self) -> int:
            return 42

    wrapped = sync_to_async(WithContext())
    assert wrapped.context is None  # type: ignore[attr-defined]
    assert async_to_sync(wrapped)() == 42


async def test_changes_made_in_a_supplied_context_stay_in_that_context() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var")
    var.set("caller")
    supplied = contextvars.copy_context()

    def change() -> None:
        assert var.get() == "caller"
        var.set("changed")

    await sync_to_async(change, context=supplied)()
    assert var.get() == "caller"
    assert supplied[var] == "changed"


def test_executor_with_thread_sensitive_is_a_type_error() -> None:
    with ThreadPoolExecutor(max_workers=1) as executor:
        with pytest.raises(TypeError, match="executor must not be set when thread_sensitive"):
            sync_to_async(lambda: None, executor=executor)
        with pytest.raises(TypeError, match="executor must not be set when thread_sensitive"):
            sync_to_async(lambda: None, thread_sensitive=True, executor=executor)


async def test_executor_runs_the_function_in_that_executor() -> None:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="custom-pool") as executor:
        wrapped = sync_to_async(
            lambda: threading.current_thread().name, thread_sensitive=False, executor=executor
        )
        assert (await wrapped()).startswith("custom-pool")


async def test_non_sensitive_calls_run_concurrently() -> None:
    barrier = threading.Barrier(3, timeout=10)
    wait = sync_to_async(barrier.wait, thread_sensitive=False)
    await asyncio.gather(wait(), wait(), wait())


var: contextvars.ContextVar[str] = contextvars.ContextVar("var")


async def test_context_keyword_runs_the_function_in_that_context() -> None:
    context = contextvars.copy_context()
    context.run(var.set, "inside the given context")
    assert await sync_to_async(var.get, context=context)() == "inside the given context"


async def test_wrapping_a_bound_method_exposes_its_self() -> None:
    class Middleware:
        def process(self) -> str:
            return "processed"

    middleware = Middleware()
    wrapped = sync_to_async(middleware.process)
    assert wrapped.__self__ is middleware  # type: ignore[attr-defined]
    assert await wrapped() == "processed"


async def test_subclasses_can_wrap_thread_handler_like_channels_database_sync_to_async() -> None:
    events: list[str] = []

    class Closing(SyncToAsync[[int], int]):
        def thread_handler(
            self, loop: asyncio.AbstractEventLoop, *args: object, **kwargs: object
        ) -> object:
            events.append(f"before in {threading.current_thread() is not main}")
            try:
                return super().thread_handler(loop, *args, **kwargs)
            finally:
                events.append("after")

    main = threading.current_thread()

    def work(value: int) -> int:
        events.append("work")
        return value + 1

    assert await Closing(work)(1) == 2
    assert events == ["before in True", "work", "after"]
