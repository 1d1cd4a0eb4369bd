"""The "lifespan" route: startup and shutdown hooks (upstream #1216)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.lifespan import Lifespan
from channels.routing import ProtocolTypeRouter
from channels.testing import ApplicationCommunicator


async def _run(app: Any, state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    scope: dict[str, Any] = {"type": "lifespan"}
    if state is not None:
        scope["state"] = state
    communicator = ApplicationCommunicator(ProtocolTypeRouter({"lifespan": app}), scope)
    await communicator.send_input({"type": "lifespan.startup"})
    replies = [await communicator.receive_output()]
    if replies[0]["type"] == "lifespan.startup.complete":
        await communicator.send_input({"type": "lifespan.shutdown"})
        replies.append(await communicator.receive_output())
    await communicator.wait()
    return replies


async def test_hooks_run_in_order_sync_and_async() -> None:
    log: list[str] = []
    lifespan = Lifespan()

    @lifespan.on_startup
    def open_pool(state: dict[str, Any]) -> None:
        log.append("sync start")
        state["pool"] = "ready"

    @lifespan.on_startup
    async def warm_cache() -> None:
        log.append("async start")

    @lifespan.on_shutdown
    async def close_pool(state: dict[str, Any]) -> None:
        log.append(f"close {state['pool']}")

    @lifespan.on_shutdown
    def flush() -> None:
        log.append("flush")

    state: dict[str, Any] = {}
    replies = await _run(lifespan, state)
    assert [r["type"] for r in replies] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    # Shutdown runs in reverse registration order.
    assert log == ["sync start", "async start", "flush", "close ready"]
    assert state == {"pool": "ready"}


async def test_startup_failure_is_reported_and_stops_later_hooks() -> None:
    log: list[str] = []

    def broken() -> None:
        raise RuntimeError("database unreachable")

    app = Lifespan(on_startup=[broken, lambda: log.append("never")])
    replies = await _run(app)
    assert replies == [
        {"type": "lifespan.startup.failed", "message": "RuntimeError: database unreachable"}
    ]
    assert log == []


async def test_shutdown_failure_still_runs_other_hooks() -> None:
    log: list[str] = []

    def broken() -> None:
        raise ValueError("cannot flush")

    app = Lifespan(on_shutdown=[lambda: log.append("first registered"), broken])
    replies = await _run(app)
    assert replies[1] == {"type": "lifespan.shutdown.failed", "message": "ValueError: cannot flush"}
    assert log == ["first registered"]


def test_non_callable_hook_is_refused() -> None:
    with pytest.raises(TypeError, match="must be callables, got 'nope'"):
        Lifespan(on_startup=["nope"])  # type: ignore[list-item]


async def test_router_without_lifespan_reports_unsupported() -> None:
    router = ProtocolTypeRouter({"http": Lifespan()})
    communicator = ApplicationCommunicator(router, {"type": "lifespan"})
    with pytest.raises(ValueError, match="No application configured for scope type 'lifespan'"):
        await communicator.wait()
