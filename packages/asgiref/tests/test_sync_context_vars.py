"""Context variables and Local values flow both ways across sync/async boundaries."""

from __future__ import annotations

import asyncio
import contextvars

import pytest
from asgiref.sync import async_to_sync, sync_to_async

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


async def test_sync_to_async_sees_the_callers_values() -> None:
    request_id.set("outer")
    assert await sync_to_async(request_id.get)() == "outer"


async def test_sync_to_async_changes_are_visible_to_the_caller_after_return() -> None:
    request_id.set("before")
    await sync_to_async(request_id.set)("after")
    assert request_id.get() == "after"


async def test_sync_to_async_changes_survive_an_exception() -> None:
    def set_then_fail() -> None:
        request_id.set("set before failing")
        raise RuntimeError("failed")

    with pytest.raises(RuntimeError):
        await sync_to_async(set_then_fail)()
    assert request_id.get() == "set before failing"


def test_async_to_sync_sees_the_callers_values() -> None:
    async def read() -> str:
        return request_id.get()

    request_id.set("from sync")
    assert async_to_sync(read)() == "from sync"


def test_async_to_sync_changes_are_visible_to_the_caller_after_return() -> None:
    async def write() -> None:
        await asyncio.sleep(0)
        request_id.set("from async")

    request_id.set("initial")
    async_to_sync(write)()
    assert request_id.get() == "from async"


def test_async_to_sync_changes_survive_an_exception() -> None:
    async def write_then_fail() -> None:
        request_id.set("written")
        raise ValueError("boom")

    with pytest.raises(ValueError):
        async_to_sync(write_then_fail)()
    assert request_id.get() == "written"


def test_values_flow_through_a_four_level_chain() -> None:
    def innermost() -> None:
        assert request_id.get() == "level 0"
        request_id.set("level 3")

    async def level_two() -> None:
        await sync_to_async(innermost)()
        assert request_id.get() == "level 3"

    def level_one() -> None:
        async_to_sync(level_two)()

    async def level_zero() -> None:
        await sync_to_async(level_one)()

    request_id.set("level 0")
    async_to_sync(level_zero)()
    assert request_id.get() == "level 3"


def test_values_compare_by_identity_not_equality() -> None:
    class NeverEqual:
        def __eq__(self, other: object) -> bool:
            raise AssertionError("restoring context must not call __eq__")

        __hash__ = object.__hash__

    marker: contextvars.ContextVar[object] = contextvars.ContextVar("marker")
    value = NeverEqual()

    async def set_value() -> None:
        marker.set(value)

    marker.set(NeverEqual())
    async_to_sync(set_value)()
    assert marker.get() is value


async def test_concurrent_tasks_do_not_see_each_others_values() -> None:
    def set_and_read(value: str) -> str:
        request_id.set(value)
        return request_id.get()

    async def task(value: str) -> str:
        await sync_to_async(set_and_read, thread_sensitive=False)(value)
        await asyncio.sleep(0.01)
        return request_id.get()

    results = await asyncio.gather(*(task(f"task-{i}") for i in range(10)))
    assert results == [f"task-{i}" for i in range(10)]


def test_exception_being_handled_is_visible_in_sync_to_async() -> None:
    # Django's got_request_exception receivers call sys.exc_info() in a sync_to_async thread.
    import sys

    async def report() -> object:
        try:
            raise KeyError("original")
        except KeyError:
            return await sync_to_async(lambda: sys.exc_info()[1], thread_sensitive=False)()

    seen = async_to_sync(report)()
    assert isinstance(seen, KeyError)
    assert seen.args == ("original",)


def test_exception_being_handled_is_visible_in_async_to_sync() -> None:
    import sys

    async def read_exc_info() -> object:
        await asyncio.sleep(0)
        return sys.exc_info()[1]

    error = ValueError("being handled")
    try:
        raise error
    except ValueError:
        traceback_before = error.__traceback__
        seen = async_to_sync(read_exc_info)()
    assert seen is error
    # Re-raising it on the other side did not touch its traceback.
    assert error.__traceback__ is traceback_before


def test_no_exception_is_invented_when_none_is_handled() -> None:
    import sys

    async def read_exc_info() -> object:
        return sys.exc_info()[1]

    assert async_to_sync(read_exc_info)() is None
