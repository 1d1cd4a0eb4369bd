"""AsyncHttpConsumer: responses, request bodies, long-poll, server-sent events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.generic.http import AsyncHttpConsumer
from channels.layers import get_channel_layer
from channels.testing import ApplicationCommunicator, HttpCommunicator


class Hello(AsyncHttpConsumer):
    disconnects: list[str] = []

    async def handle(self, body: bytes) -> None:
        await self.send_response(
            201, b"got:" + body, headers={"Content-Type": "text/plain", b"X-Raw": b"1"}
        )

    async def disconnect(self) -> None:
        self.disconnects.append("disconnect")


async def test_send_response_with_dict_headers_keeps_header_name_case() -> None:
    disconnects: list[str] = []
    communicator = HttpCommunicator(
        Hello.as_asgi(disconnects=disconnects), "POST", "/hello/", body=b"abc"
    )
    response = await communicator.get_response()
    assert response == {
        "status": 201,
        "headers": [(b"Content-Type", b"text/plain"), (b"X-Raw", b"1")],
        "body": b"got:abc",
    }
    await communicator.wait()  # the consumer stopped by itself after the response
    assert disconnects == ["disconnect"]


async def test_request_body_arrives_in_chunks() -> None:
    communicator = ApplicationCommunicator(Hello.as_asgi(disconnects=[]), {"type": "http"})
    for chunk in (b"one,", b"two,"):
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": True})
    await communicator.send_input({"type": "http.request", "body": b"three"})
    assert (await communicator.receive_output())["status"] == 201
    assert (await communicator.receive_output())["body"] == b"got:one,two,three"
    await communicator.wait()


class LongPoll(AsyncHttpConsumer):
    async def handle(self, body: bytes) -> None:
        await self.channel_layer.group_add("poll", self.channel_name)
        await self.send_headers(headers=[(b"content-type", b"application/json")])
        await self.send_body(b"", more_body=True)

    async def poll_result(self, event: dict[str, Any]) -> None:
        await self.send_body(event["payload"].encode())

    async def disconnect(self) -> None:
        await self.channel_layer.group_discard("poll", self.channel_name)


async def test_long_poll_completes_on_a_group_message() -> None:
    layer = get_channel_layer()
    assert layer is not None
    communicator = HttpCommunicator(LongPoll.as_asgi(), "GET", "/poll/")
    await communicator.send_input({"type": "http.request", "body": b""})
    assert (await communicator.receive_output())["type"] == "http.response.start"
    assert await communicator.receive_output() == {
        "type": "http.response.body",
        "body": b"",
        "more_body": True,
    }
    await layer.group_send("poll", {"type": "poll.result", "payload": '{"ok": true}'})
    assert await communicator.receive_output() == {
        "type": "http.response.body",
        "body": b'{"ok": true}',
        "more_body": False,
    }
    await communicator.wait()


class Events(AsyncHttpConsumer):
    log: list[str] = []

    async def handle(self, body: bytes) -> None:
        await self.send_headers(headers={"Content-Type": "text/event-stream"})
        number = 0
        try:
            while True:
                await self.send_body(f"data: {number}\n\n".encode(), more_body=True)
                number += 1
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            self.log.append("stream cancelled")
            raise

    async def disconnect(self) -> None:
        self.log.append("disconnect")


async def test_server_sent_events_stop_on_http_disconnect() -> None:
    log: list[str] = []
    communicator = HttpCommunicator(Events.as_asgi(log=log), "GET", "/events/")
    await communicator.send_input({"type": "http.request", "body": b""})
    assert (await communicator.receive_output())["status"] == 200
    assert (await communicator.receive_output())["body"] == b"data: 0\n\n"
    assert (await communicator.receive_output())["body"] == b"data: 1\n\n"
    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait()
    assert log == ["stream cancelled", "disconnect"]


class Misuse(AsyncHttpConsumer):
    async def handle(self, body: bytes) -> None:
        if body == b"body-first":
            await self.send_body(b"x")
        await self.send_response(200, b"ok")
        if body == b"after-complete":
            await self.send_body(b"late")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"body-first", "send the response headers first"),
        (b"after-complete", "the response is already complete"),
    ],
)
async def test_response_order_is_enforced(body: bytes, error: str) -> None:
    communicator = HttpCommunicator(Misuse.as_asgi(), "POST", "/", body=body)
    with pytest.raises(RuntimeError, match=error):
        await communicator.get_response()
        await communicator.wait()


async def test_handle_must_be_implemented() -> None:
    communicator = HttpCommunicator(AsyncHttpConsumer.as_asgi(), "GET", "/")
    with pytest.raises(NotImplementedError, match="must implement handle"):
        await communicator.get_response()


async def test_bad_body_type_is_a_clear_error() -> None:
    class BadBody(AsyncHttpConsumer):
        async def handle(self, body: bytes) -> None:
            await self.send_headers()
            await self.send_body("text")  # type: ignore[arg-type]

    communicator = HttpCommunicator(BadBody.as_asgi(), "GET", "/")
    with pytest.raises(TypeError, match="body must be bytes, got str"):
        await communicator.get_response()


async def test_one_instance_can_serve_two_requests_one_after_the_other() -> None:
    # Upstream's tests pass a consumer instance (not as_asgi()) to several communicators.
    instance = Hello(disconnects=[])
    for _ in range(2):
        response = await HttpCommunicator(instance, "POST", "/", body=b"x").get_response()
        assert (response["status"], response["body"]) == (201, b"got:x")
