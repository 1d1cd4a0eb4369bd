"""ASGI 2 / ASGI 3 detection and adaptation."""

from __future__ import annotations

from typing import Any

from asgiref.compatibility import (
    double_to_single_callable,
    guarantee_single_callable,
    is_double_callable,
)
from asgiref.sync import markcoroutinefunction


async def single(scope: Any, receive: Any, send: Any) -> None:
    await send({"scope": scope["type"]})


class DoubleApp:
    def __init__(self, scope: Any) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        await send({"scope": self.scope["type"], "from": "double"})


class AsyncCallableInstance:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"from": "instance"})


def double_function(scope: Any) -> Any:
    async def instance(receive: Any, send: Any) -> None:
        await send({"from": "double function"})

    return instance


def test_detection() -> None:
    assert not is_double_callable(single)
    assert is_double_callable(DoubleApp)
    assert not is_double_callable(AsyncCallableInstance())
    assert is_double_callable(double_function)


def test_explicit_markers_win() -> None:
    def marked_single(scope: Any, receive: Any, send: Any) -> Any:
        return single(scope, receive, send)

    marked_single._asgi_single_callable = True  # type: ignore[attr-defined]
    assert not is_double_callable(marked_single)

    async def marked_double(scope: Any) -> Any:
        return None

    marked_double._asgi_double_callable = True  # type: ignore[attr-defined]
    assert is_double_callable(marked_double)


def test_marked_coroutine_function_is_single() -> None:
    def returns_coroutine(scope: Any, receive: Any, send: Any) -> Any:
        return single(scope, receive, send)

    assert not is_double_callable(markcoroutinefunction(returns_coroutine))


async def test_double_to_single_callable_runs_the_instance() -> None:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    adapted = double_to_single_callable(DoubleApp)
    await adapted({"type": "http"}, None, send)
    assert sent == [{"scope": "http", "from": "double"}]
    assert not is_double_callable(adapted)


async def test_guarantee_single_callable() -> None:
    assert guarantee_single_callable(single) is single
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    await guarantee_single_callable(double_function)({"type": "http"}, None, send)
    assert sent == [{"from": "double function"}]
