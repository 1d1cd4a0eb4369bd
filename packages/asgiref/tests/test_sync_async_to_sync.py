"""async_to_sync: results, errors, decorator forms, loop reuse, the loop-thread guard."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import traceback

import pytest
from asgiref.sync import AsyncToSync, async_to_sync, iscoroutinefunction


async def double(value: int) -> int:
    await asyncio.sleep(0)
    return value * 2


def test_returns_the_coroutine_result() -> None:
    assert async_to_sync(double)(21) == 42


def test_passes_keyword_arguments() -> None:
    async def join(a: str, *, b: str) -> str:
        return a + b

    assert async_to_sync(join)("x", b="y") == "xy"


def test_is_a_real_class_instance_preserving_metadata() -> None:
    async def documented() -> None:
        """The docstring."""

    wrapped = async_to_sync(documented)
    assert isinstance(wrapped, AsyncToSync)
    assert wrapped.__name__ == "documented"
    assert wrapped.__doc__ == "The docstring."
    assert wrapped.__wrapped__ is documented  # type: ignore[attr-defined]
    assert not iscoroutinefunction(wrapped)


def test_decorator_without_arguments() -> None:
    @async_to_sync
    async def triple(value: int) -> int:
        return value * 3

    assert triple(3) == 9


def test_decorator_with_arguments() -> None:
    @async_to_sync(force_new_loop=True)
    async def triple(value: int) -> int:
        return value * 3

    assert triple(4) == 12


def test_decorates_methods() -> None:
    class Thing:
        factor = 5

        @async_to_sync
        async def scale(self, value: int) -> int:
            return value * self.factor

    assert Thing().scale(2) == 10


def test_accepts_a_partial_of_a_coroutine_function() -> None:
    assert async_to_sync(functools.partial(double, 4))() == 8


def test_warns_about_a_callable_not_marked_async() -> None:
    def returns_awaitable() -> object:
        return double(1)

    with pytest.warns(UserWarning, match="non-async-marked callable"):
        wrapped = async_to_sync(returns_awaitable)  # type: ignore[arg-type]
    assert wrapped() == 2


def test_a_non_callable_gets_the_3x_warning_and_fails_when_called() -> None:
    with pytest.warns(UserWarning) as caught:
        wrapped = async_to_sync(5)  # type: ignore[arg-type]
    assert caught[0].message.args == ("async_to_sync was passed a non-async-marked callable",)
    with pytest.raises(TypeError, match="not callable"):
        wrapped()


def test_exception_propagates_with_its_traceback() -> None:
    async def deep_failure() -> None:
        await asyncio.sleep(0)
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing") as info:
        async_to_sync(deep_failure)()
    frames = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert "deep_failure" in frames


def test_raises_in_a_thread_running_an_event_loop() -> None:
    async def caller() -> None:
        async_to_sync(double)(1)

    with pytest.raises(RuntimeError) as info:
        asyncio.run(caller())
    assert str(info.value) == (
        "You cannot use AsyncToSync in the same thread as an async event loop - "
        "just await the async function directly."
    )


def test_force_new_loop_works_in_a_thread_running_an_event_loop() -> None:
    async def caller() -> int:
        result: int = async_to_sync(double, force_new_loop=True)(5)
        return result

    assert asyncio.run(caller()) == 10


def test_loop_bound_resources_keep_working_across_calls() -> None:
    # A lock is bound to the loop it was first used on; a client connection (asyncio
    # streams) is too. The echo server is started in a fresh context, the documented way to
    # keep background tasks (its connection handlers) alive beyond the call.
    state: dict[str, object] = {}

    async def create() -> None:
        detached = contextvars.Context().run(
            asyncio.ensure_future, asyncio.start_server(_echo, "127.0.0.1", 0)
        )
        server = await detached
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        state.update(server=server, reader=reader, writer=writer, lock=asyncio.Lock())

    async def use(payload: bytes) -> bytes:
        lock: asyncio.Lock = state["lock"]  # type: ignore[assignment]
        async with lock:
            writer: asyncio.StreamWriter = state["writer"]  # type: ignore[assignment]
            reader: asyncio.StreamReader = state["reader"]  # type: ignore[assignment]
            writer.write(payload + b"\n")
            await writer.drain()
            return await reader.readline()

    async def close() -> None:
        writer: asyncio.StreamWriter = state["writer"]  # type: ignore[assignment]
        writer.close()
        await writer.wait_closed()
        server: asyncio.Server = state["server"]  # type: ignore[assignment]
        server.close()
        await server.wait_closed()

    async_to_sync(create)()
    assert async_to_sync(use)(b"one") == b"one\n"
    assert async_to_sync(use)(b"two") == b"two\n"
    async_to_sync(close)()


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


def test_concurrent_calls_from_many_threads_all_complete() -> None:
    results: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        for _ in range(20):
            value = async_to_sync(double)(index)
            with lock:
                results.append(value)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted(i * 2 for i in range(8) for _ in range(20))


def test_keyboard_interrupt_style_base_exceptions_propagate() -> None:
    async def exits() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit) as info:
        async_to_sync(exits)()
    assert info.value.code == 3


def test_wrapping_a_bound_method_exposes_its_self() -> None:
    # Django names the middleware via wrapped.__self__ in its error messages.
    class Middleware:
        async def process(self) -> str:
            return "processed"

    middleware = Middleware()
    wrapped = async_to_sync(middleware.process)
    assert wrapped.__self__ is middleware  # type: ignore[attr-defined]
    assert wrapped() == "processed"


def test_wrapping_a_sync_to_async_object_gives_a_sync_callable() -> None:
    # update_wrapper copies the wrapped object's __dict__, coroutine markers included.
    from asgiref.sync import sync_to_async

    def compute() -> int:
        return 1

    wrapped = async_to_sync(sync_to_async(compute))
    assert not iscoroutinefunction(wrapped)
    assert wrapped() == 1


@pytest.mark.timeout(30)
def test_a_coroutine_stopping_the_shared_loop_does_not_strand_callers() -> None:
    async def stops_its_loop() -> str:
        asyncio.get_running_loop().stop()
        await asyncio.sleep(0.01)
        return "finished anyway"

    assert async_to_sync(stops_its_loop)() == "finished anyway"
    assert async_to_sync(double)(2) == 4
