"""ApplicationCommunicator drives one application instance."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator


async def echo_app(scope: Any, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "stop":
            return
        await send({"type": "echo", "body": message["body"], "scope": scope["type"]})


async def crash_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    raise ValueError("application crashed")


async def silent_app(scope: Any, receive: Any, send: Any) -> None:
    await asyncio.sleep(3600)


async def test_send_and_receive() -> None:
    communicator = ApplicationCommunicator(echo_app, {"type": "test"})
    await communicator.send_input({"type": "msg", "body": "hello"})
    assert await communicator.receive_output() == {
        "type": "echo",
        "body": "hello",
        "scope": "test",
    }
    await communicator.send_input({"type": "stop"})
    await communicator.wait()


async def test_receive_output_reraises_the_application_exception() -> None:
    communicator = ApplicationCommunicator(crash_app, {"type": "test"})
    await communicator.send_input({"type": "go"})
    with pytest.raises(ValueError, match="application crashed"):
        await communicator.receive_output()


async def test_send_input_reraises_the_application_exception() -> None:
    communicator = ApplicationCommunicator(crash_app, {"type": "test"})
    await communicator.send_input({"type": "go"})
    with pytest.raises(ValueError, match="application crashed"):
        await communicator.wait()
    with pytest.raises(ValueError, match="application crashed"):
        await communicator.send_input({"type": "again"})


async def test_receive_output_timeout_cancels_the_application() -> None:
    communicator = ApplicationCommunicator(silent_app, {"type": "test"})
    with pytest.raises(asyncio.TimeoutError):
        await communicator.receive_output(timeout=0.05)
    assert communicator.future.cancelled()


async def test_receive_nothing() -> None:
    communicator = ApplicationCommunicator(echo_app, {"type": "test"})
    assert await communicator.receive_nothing(timeout=0.05)
    await communicator.send_input({"type": "msg", "body": "x"})
    assert not await communicator.receive_nothing(timeout=0.5)
    communicator.stop()


async def test_wait_timeout_cancels_and_raises() -> None:
    communicator = ApplicationCommunicator(silent_app, {"type": "test"})
    with pytest.raises(asyncio.TimeoutError):
        await communicator.wait(timeout=0.05)
    assert communicator.future.cancelled()


async def test_stop_reraises_unless_told_not_to() -> None:
    communicator = ApplicationCommunicator(crash_app, {"type": "test"})
    await communicator.send_input({"type": "go"})
    with pytest.raises(ValueError):
        await communicator.wait()
    communicator.stop(exceptions=False)
    with pytest.raises(ValueError):
        communicator.stop()


async def test_supports_asgi2_applications() -> None:
    class Double:
        def __init__(self, scope: Any) -> None:
            self.scope = scope

        async def __call__(self, receive: Any, send: Any) -> None:
            await send({"type": "hi", "path": self.scope["path"]})

    communicator = ApplicationCommunicator(Double, {"type": "http", "path": "/x"})
    assert await communicator.receive_output() == {"type": "hi", "path": "/x"}
    await communicator.wait()


def test_it_can_be_created_before_the_loop_runs_and_starts_on_first_use() -> None:
    communicator = ApplicationCommunicator(echo_app, {"type": "test"})

    async def talk() -> Any:
        await communicator.send_input({"type": "test.hello", "body": "hi"})
        return await communicator.receive_output()

    assert asyncio.run(talk()) == {"type": "echo", "body": "hi", "scope": "test"}


async def test_the_application_starts_in_an_empty_context() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var")
    var.set("the test's")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "seen", "value": var.get("unset")})

    communicator = ApplicationCommunicator(app, {"type": "test"})
    assert await communicator.receive_output() == {"type": "seen", "value": "unset"}


async def test_a_receive_cancelled_while_waiting_does_not_swallow_the_next_message() -> None:
    communicator = ApplicationCommunicator(echo_app, {"type": "test"})
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(communicator.receive_output(timeout=10), 0.1)
    await communicator.send_input({"type": "test.after", "body": "after"})
    assert await communicator.receive_output() == {"type": "echo", "body": "after", "scope": "test"}
    communicator.stop()


async def test_receive_nothing_reraises_a_crash() -> None:
    communicator = ApplicationCommunicator(crash_app, {"type": "test"})
    await communicator.send_input({"type": "test.boom"})
    await asyncio.wait({communicator.future})
    with pytest.raises(ValueError):
        await communicator.receive_nothing()


@pytest.mark.timeout(30)
async def test_a_crash_surfaces_without_waiting_for_the_receive_timeout() -> None:
    # With an hour-long receive timeout, only reacting to the crash itself can pass.
    communicator = ApplicationCommunicator(crash_app, {"type": "test"})
    await communicator.send_input({"type": "go"})
    with pytest.raises(ValueError, match="application crashed"):
        await communicator.receive_output(timeout=3600)


@pytest.mark.timeout(30)
async def test_a_clean_finish_without_output_is_a_timeout_error_at_once() -> None:
    async def quiet_app(scope: Any, receive: Any, send: Any) -> None:
        return None

    communicator = ApplicationCommunicator(quiet_app, {"type": "test"})
    with pytest.raises(asyncio.TimeoutError, match="finished without sending"):
        await communicator.receive_output(timeout=3600)


async def test_output_sent_before_the_application_finished_is_still_received() -> None:
    async def send_then_finish(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "first"})
        await send({"type": "second"})

    communicator = ApplicationCommunicator(send_then_finish, {"type": "test"})
    await communicator.wait()
    assert await communicator.receive_output() == {"type": "first"}
    assert await communicator.receive_output() == {"type": "second"}


async def test_a_zero_timeout_returns_only_output_already_queued() -> None:
    # As in 3.x: timeout=0 does not let the application run first.
    async def instant(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "instant"})
        await asyncio.sleep(3600)

    communicator = ApplicationCommunicator(instant, {"type": "test"})
    with pytest.raises(asyncio.TimeoutError):
        await communicator.receive_output(timeout=0)
    assert communicator.future.cancelled()

    communicator = ApplicationCommunicator(instant, {"type": "test"})
    assert await communicator.receive_nothing() is False
    assert await communicator.receive_output(timeout=0) == {"type": "instant"}
    communicator.stop()
