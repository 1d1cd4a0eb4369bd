"""database_sync_to_async and aclose_old_connections."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from asgiref.sync import sync_to_async
from channels import _db
from channels.db import aclose_old_connections, database_sync_to_async
from django.db import connection

T = TypeVar("T")

pytestmark = pytest.mark.usefixtures("db")


def _expire_and_report() -> tuple[int, bool]:
    connection.ensure_connection()
    # Mark the connection as past its lifetime; the wrapper's cleanup after
    # the call must then close it, as Django's request_finished handler does.
    connection.close_at = 0
    return threading.get_ident(), connection.connection is not None


def _is_open() -> bool:
    return connection.connection is not None


async def test_closes_expired_connections_around_the_call() -> None:
    thread, was_open = await database_sync_to_async(_expire_and_report)()
    assert was_open
    is_open = await database_sync_to_async(_is_open)()
    # Same thread-sensitive thread, and the expired connection was closed after the call.
    assert is_open is False
    assert thread != threading.get_ident()


async def test_decorator_forms() -> None:
    @database_sync_to_async
    def plain(x: int) -> int:
        return x + 1

    @database_sync_to_async(thread_sensitive=False)
    def free(x: int) -> int:
        return x * 2

    assert await plain(1) == 2
    assert await free(4) == 8


def test_non_callable_is_refused() -> None:
    with pytest.raises(TypeError, match="expects a callable, got 42"):
        database_sync_to_async(42)  # type: ignore[call-overload]


def _connect() -> None:
    # Looked up in the worker thread: ``connection.ensure_connection`` evaluated in
    # the test's thread would open the test thread's connection from the worker,
    # which nothing then closes (Python 3.13 reports it as an unclosed database).
    connection.ensure_connection()


async def test_aclose_old_connections_closes_expired_ones() -> None:
    await database_sync_to_async(_connect)()

    def expire() -> None:
        connection.close_at = 0

    await sync_to_async(expire)()
    await aclose_old_connections()
    assert await sync_to_async(_is_open)() is False


def _in_a_new_thread(func: Callable[[], T]) -> T:
    results: list[T] = []
    thread = threading.Thread(target=lambda: results.append(func()))
    thread.start()
    thread.join()
    return results[0]


@pytest.fixture
def watch() -> Iterator[_db._OpenConnections]:
    """A fresh watch started in a thread with no connection (the test's own thread has one)."""
    fresh = _db._OpenConnections()
    _in_a_new_thread(fresh.watch)
    yield fresh
    fresh.stop()


def _open_then(check: Callable[[], bool]) -> bool:
    connection.ensure_connection()
    try:
        return check()
    finally:
        connection.close()


def test_a_connection_opened_in_any_thread_is_seen(watch: _db._OpenConnections) -> None:
    assert watch.none_open()
    assert _in_a_new_thread(lambda: _open_then(watch.none_open)) is False
    assert watch.none_open()


async def test_no_thread_hop_while_no_connection_is_open(
    watch: _db._OpenConnections, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(_db, "open_connections", watch)
    monkeypatch.setattr(_db, "close_old_connections", lambda: calls.append(1))
    await aclose_old_connections()
    assert calls == []

    def aclose_while_open() -> bool:
        asyncio.run(aclose_old_connections())
        return True

    await sync_to_async(_in_a_new_thread, thread_sensitive=False)(
        lambda: _open_then(aclose_while_open)
    )
    assert calls == [1]
