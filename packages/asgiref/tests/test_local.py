"""asgiref.local.Local: context-local by default, thread-local when thread_critical."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest
from asgiref.local import Local
from asgiref.sync import async_to_sync, sync_to_async

pytestmark = pytest.mark.timeout(30)


def test_attribute_set_get_delete() -> None:
    local = Local()
    local.value = 1
    assert local.value == 1
    del local.value
    with pytest.raises(AttributeError, match="no attribute 'value'"):
        local.value  # noqa: B018


def test_missing_attribute_names_the_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'absent'"):
        Local().absent  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'absent'"):
        del Local().absent


def test_the_storage_names_cannot_be_overwritten() -> None:
    for local in (Local(), Local(thread_critical=True)):
        local.kept = "kept"
        for name in ("_data", "_storage"):
            with pytest.raises(AttributeError, match="Cannot set attribute"):
                setattr(local, name, 1)
        assert local.kept == "kept"


def test_local_returns_one_of_two_distinct_classes_and_cannot_be_subclassed() -> None:
    default, critical = Local(), Local(thread_critical=True)
    assert isinstance(default, Local) and isinstance(critical, Local)
    assert type(default) is not type(critical)
    assert type(default) is not Local

    class Mine(Local):  # type: ignore[misc]
        pass

    with pytest.raises(TypeError, match="cannot be subclassed"):
        Mine()


def test_a_thread_running_in_a_copy_of_the_context_does_not_see_the_values() -> None:
    # Python 3.14 can start threads in a copy of the spawner's context; a Local must stay
    # thread-local there, and the thread's writes must not reach the spawner.
    local = Local()
    local.value = "spawner"
    seen: list[object] = []

    def child() -> None:
        seen.append(getattr(local, "value", None))
        local.value = "child"
        seen.append(local.value)

    context = contextvars.copy_context()
    worker = threading.Thread(target=context.run, args=(child,))
    worker.start()
    worker.join()
    assert seen == [None, "child"]
    assert local.value == "spawner"


def test_instances_are_independent() -> None:
    first, second = Local(), Local()
    first.value = "first"
    assert not hasattr(second, "value")


def test_values_are_per_thread_in_sync_code() -> None:
    local = Local()
    local.value = "main"
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(getattr(local, "value", None)))
    worker.start()
    worker.join()
    assert seen == [None]


async def test_value_set_in_sync_to_async_is_visible_to_the_awaiting_coroutine() -> None:
    local = Local()

    def set_value() -> None:
        local.value = "from sync"

    await sync_to_async(set_value)()
    assert local.value == "from sync"


async def test_value_set_in_coroutine_is_visible_in_sync_to_async() -> None:
    local = Local()
    local.value = "from async"
    assert await sync_to_async(lambda: local.value, thread_sensitive=False)() == "from async"


def test_value_set_in_async_to_sync_is_visible_to_the_sync_caller() -> None:
    local = Local()

    async def set_value() -> None:
        local.value = "from async"

    async_to_sync(set_value)()
    assert local.value == "from async"


def test_value_set_in_sync_is_visible_in_async_to_sync() -> None:
    local = Local()
    local.value = "from sync"

    async def read() -> str:
        value: str = local.value
        return value

    assert async_to_sync(read)() == "from sync"


async def test_tasks_do_not_see_each_others_writes() -> None:
    local = Local()
    local.shared = "parent"

    async def child(name: str) -> str:
        local.shared = name
        await asyncio.sleep(0.01)
        value: str = local.shared
        return value

    assert await asyncio.gather(child("a"), child("b")) == ["a", "b"]
    # A child's write (in its own context copy) never leaks into the parent.
    assert local.shared == "parent"


async def test_deleting_in_sync_to_async_is_visible_to_the_caller() -> None:
    local = Local()
    local.value = 1

    def delete() -> None:
        del local.value

    await sync_to_async(delete)()
    assert not hasattr(local, "value")


def test_thread_critical_values_are_per_thread() -> None:
    local = Local(True)
    local.value = "main"
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(getattr(local, "value", None)))
    worker.start()
    worker.join()
    assert seen == [None]
    assert local.value == "main"


async def test_thread_critical_values_do_not_cross_into_sync_to_async_threads() -> None:
    local = Local(thread_critical=True)
    local.value = "loop thread"
    assert await sync_to_async(lambda: getattr(local, "value", None))() is None

    def set_value() -> None:
        local.value = "worker"

    await sync_to_async(set_value)()
    assert local.value == "loop thread"


async def test_thread_critical_values_are_local_to_each_task_on_one_loop() -> None:
    # As in asgiref 3.13: in an event loop's thread a thread-critical Local is also
    # context-local, so concurrent requests do not share, e.g., a connection object.
    local = Local(thread_critical=True)
    local.value = "parent"

    async def writer() -> str:
        assert local.value == "parent"
        local.value = "written by a task"
        value: str = local.value
        return value

    assert await asyncio.ensure_future(writer()) == "written by a task"
    assert local.value == "parent"


def test_thread_critical_values_set_in_async_code_do_not_reach_the_next_call() -> None:
    local = Local(thread_critical=True)

    async def read_then_write() -> object:
        seen = getattr(local, "value", None)
        local.value = "set on the loop"
        return seen

    assert async_to_sync(read_then_write)() is None
    assert async_to_sync(read_then_write)() is None
    assert not hasattr(local, "value")


def test_thread_critical_delete_and_missing() -> None:
    local = Local(thread_critical=True)
    local.value = 1
    del local.value
    with pytest.raises(AttributeError):
        local.value  # noqa: B018


def test_repr_names_the_mode() -> None:
    assert "thread_critical" in repr(Local(True))
    assert "thread_critical" not in repr(Local())
