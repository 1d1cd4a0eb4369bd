"""Type-checked by tests/test_typing_bridges.py (never imported): the bridges keep the
wrapped callable's parameter and return types in every decorator form."""

from __future__ import annotations

from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from typing_extensions import assert_type


async def fetch(user_id: int, *, verbose: bool = False) -> str:
    return str(user_id)


def load(name: str, limit: int = 10) -> list[str]:
    return [name] * limit


assert_type(async_to_sync(fetch)(1), str)
assert_type(async_to_sync(fetch)(1, verbose=True), str)
assert_type(async_to_sync(force_new_loop=True)(fetch)(1), str)
pending = assert_type(sync_to_async(load)("a", limit=2), Coroutine[Any, Any, list[str]])
pending.close()


async def awaited() -> None:
    assert_type(await sync_to_async(load)("a", limit=2), list[str])
    assert_type(await sync_to_async(thread_sensitive=False)(load)("a"), list[str])
    with ThreadPoolExecutor() as pool:
        assert_type(
            await sync_to_async(load, thread_sensitive=False, executor=pool)("a"), list[str]
        )
    assert_type(await sync_decorated(True), int)
    assert_type(await sync_decorated_with_arguments("a"), tuple[str, ...])
    assert_type(await Service().blocking("a"), int)
    await sync_decorated(flag="yes")  # error: wrong argument type


@async_to_sync
async def decorated(count: int) -> bytes:
    return b"x" * count


@async_to_sync(force_new_loop=True)
async def decorated_with_arguments(count: int) -> float:
    return float(count)


@sync_to_async
def sync_decorated(flag: bool) -> int:
    return int(flag)


@sync_to_async(thread_sensitive=False)
def sync_decorated_with_arguments(text: str) -> tuple[str, ...]:
    return (text,)


assert_type(decorated(3), bytes)
assert_type(decorated_with_arguments(3), float)


class Service:
    @async_to_sync
    async def method(self, value: int) -> str:
        return str(value)

    @sync_to_async
    def blocking(self, value: str) -> int:
        return len(value)


assert_type(Service().method(1), str)

# Wrong arguments and wrong uses are type errors (the test expects exactly these lines).
decorated("three")  # error: wrong argument type
async_to_sync(load)  # error: not an async callable
