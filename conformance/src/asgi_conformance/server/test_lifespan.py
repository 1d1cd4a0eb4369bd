"""The ASGI lifespan protocol (ASGI spec, "Lifespan")."""

from __future__ import annotations

import json
import time

from ._checks import describe, get
from ._kit import Kit
from ._wire import Connection, request
from .app import APP, FAILING_STARTUP_APP, NO_LIFESPAN_APP, STARTUP_FAILURE


def test_startup_runs_before_requests(server_kit: Kit) -> None:
    """ASGI "Startup - receive event": lifespan.startup completes before the first request
    is served."""
    server_kit.require("lifespan")
    events = server_kit.events("lifespan", timeout=0)
    assert events and set(events) == {"startup"}, events


def test_state_from_startup_reaches_requests(server_kit: Kit) -> None:
    """ASGI "Lifespan State": keys the app put in scope["state"] at startup are in a copy of
    that state in each request's scope."""
    server_kit.require("lifespan")
    scope = json.loads(get(server_kit, request("GET", "/scope")).body)
    assert scope["state"] == {"kit": repr("set during lifespan startup")}, scope["state"]


def test_shutdown_runs_when_the_server_stops(server_kit: Kit) -> None:
    """ASGI "Shutdown - receive event": stopping the server (SIGTERM) sends
    lifespan.shutdown and waits for lifespan.shutdown.complete."""
    server_kit.require("lifespan")
    server = server_kit.start(server_kit.options.commands["main"], APP)
    try:
        assert server.wait_ready(), server.log_tail()
        with Connection.open(server.target) as conn:
            conn.send(request("GET", "/"))
            assert conn.read_response() is not None
    finally:
        server.stop()
    marker = server.workdir / "shutdown-complete"
    assert marker.exists(), f"expected lifespan.shutdown to run on SIGTERM\n{server.log_tail()}"


def test_failed_startup_stops_the_server(server_kit: Kit) -> None:
    """ASGI "Startup Failed - send event": after lifespan.startup.failed the server exits
    (non-zero) without serving, and logs the app's message."""
    server_kit.require("lifespan")
    server = server_kit.start(server_kit.options.commands["main"], FAILING_STARTUP_APP)
    try:
        served = server.wait_ready()
        deadline = time.monotonic() + 15.0
        while server.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        still_alive = server.alive()
    finally:
        code = server.stop()
    assert not served and not still_alive, "expected the server to exit after startup failed"
    assert code != 0, f"expected a non-zero exit code, got {code}"
    assert STARTUP_FAILURE in server.log_tail(20000), (
        f"expected the app's failure message in the server output\n{server.log_tail()}"
    )


def test_app_without_lifespan_is_still_served(server_kit: Kit) -> None:
    """ASGI "Lifespan Protocol": an app that raises on the lifespan scope does not support
    it; the server goes on serving HTTP."""
    server = server_kit.server(app=NO_LIFESPAN_APP)
    with Connection.open(server.target) as conn:
        conn.send(request("GET", "/"))
        response = conn.read_response()
    assert response is not None and response.status == 200, describe(response)
