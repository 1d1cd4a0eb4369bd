"""Type-checked by tests/test_typing_db.py (never imported): database_sync_to_async keeps the
wrapped function's parameter and return types, called directly and as a decorator."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from channels.db import database_sync_to_async
from typing_extensions import assert_type


def count_rows(table: str, *, limit: int = 10) -> int:
    return limit


@database_sync_to_async
def load_names(prefix: str) -> list[str]:
    return [prefix]


@database_sync_to_async(thread_sensitive=False)
def load_flag(name: str) -> bool:
    return bool(name)


pending = assert_type(database_sync_to_async(count_rows)("t", limit=2), Coroutine[Any, Any, int])
pending.close()


async def awaited() -> None:
    assert_type(await database_sync_to_async(count_rows)("t"), int)
    assert_type(await load_names("a"), list[str])
    assert_type(await load_flag("x"), bool)
    await load_names(1)  # error: an int is not a str
    await database_sync_to_async(count_rows)("t", limit="many")  # error: limit is an int
