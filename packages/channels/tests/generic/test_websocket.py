"""Generic WebSocket consumers, sync and async through the same tests."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.exceptions import AcceptConnection, DenyConnection, InvalidChannelLayerError
from channels.generic.websocket import (
    AsyncJsonWebsocketConsumer,
    AsyncWebsocketConsumer,
    JsonWebsocketConsumer,
    WebsocketConsumer,
)
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import override_settings

# --- consumers, one sync and one async version of each ---------------------------


class SyncEcho(WebsocketConsumer):
    calls: list[Any] = []  # replaced per test through as_asgi(calls=...)
    mode = "accept"

    def connect(self) -> None:
        self.calls.append(
            (
                "connect",
                dict(self.scope["url_route"]["kwargs"]) if "url_route" in self.scope else None,
            )
        )
        if self.mode == "record":
            self.calls.append(("channel", self.channel_name))
        if self.mode == "deny":
            raise DenyConnection()
        if self.mode == "raise-accept":
            raise AcceptConnection()
        if self.mode == "close":
            self.close(code=4001)
            return
        self.accept(
            subprotocol=self.scope["subprotocols"][0] if self.scope["subprotocols"] else None,
            headers={"X-Extra": "yes"},
        )

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == "explode":
            raise RuntimeError("handler blew up")
        if text_data == "server-close":
            self.close(code=4002, reason="bye")
            return
        if text_data == "send-and-close":
            self.send(text_data="last words", close=True)
            return
        if text_data == "query":
            self.send(text_data=self.scope["query_string"].decode())
            return
        if text_data is not None:
            self.send(text_data=text_data)
        else:
            self.send(bytes_data=bytes_data)

    def group_ping(self, message: dict[str, Any]) -> None:
        self.send(text_data=f"group:{message['text']}")

    def disconnect(self, code: int) -> None:
        self.calls.append(("disconnect", code))


class AsyncEcho(AsyncWebsocketConsumer):
    calls: list[Any] = []
    mode = "accept"

    async def connect(self) -> None:
        self.calls.append(
            (
                "connect",
                dict(self.scope["url_route"]["kwargs"]) if "url_route" in self.scope else None,
            )
        )
        if self.mode == "record":
            self.calls.append(("channel", self.channel_name))
        if self.mode == "deny":
            raise DenyConnection()
        if self.mode == "raise-accept":
            raise AcceptConnection()
        if self.mode == "close":
            await self.close(code=4001)
            return
        await self.accept(
            subprotocol=self.scope["subprotocols"][0] if self.scope["subprotocols"] else None,
            headers={"X-Extra": "yes"},
        )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == "explode":
            raise RuntimeError("handler blew up")
        if text_data == "server-close":
            await self.close(code=4002, reason="bye")
            return
        if text_data == "send-and-close":
            await self.send(text_data="last words", close=True)
            return
        if text_data == "query":
            await self.send(text_data=self.scope["query_string"].decode())
            return
        if text_data is not None:
            await self.send(text_data=text_data)
        else:
            await self.send(bytes_data=bytes_data)

    async def group_ping(self, message: dict[str, Any]) -> None:
        await self.send(text_data=f"group:{message['text']}")

    async def disconnect(self, code: int) -> None:
        self.calls.append(("disconnect", code))


class SyncJson(JsonWebsocketConsumer):
    def receive_json(self, content: Any) -> None:
        self.send_json({"got": content})


class AsyncJson(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content: Any) -> None:
        await self.send_json({"got": content})


class SyncSortedJson(SyncJson):
    @classmethod
    def encode_json(cls, content: Any) -> str:
        import json

        return json.dumps(content, sort_keys=True, separators=(",", ":"))


class AsyncSortedJson(AsyncJson):
    @classmethod
    async def encode_json(cls, content: Any) -> str:
        import json

        return json.dumps(content, sort_keys=True, separators=(",", ":"))


KINDS = {
    "sync": {"echo": SyncEcho, "json": SyncJson, "sorted": SyncSortedJson},
    "async": {"echo": AsyncEcho, "json": AsyncJson, "sorted": AsyncSortedJson},
}


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> dict[str, Any]:
    return KINDS[request.param]


def _echo(kind: dict[str, Any], calls: list[Any], **kwargs: Any) -> Any:
    return kind["echo"].as_asgi(calls=calls, **kwargs)


# --- connection setup -----------------------------------------------------------


async def test_accept_with_subprotocol_and_headers(kind: dict[str, Any]) -> None:
    calls: list[Any] = []
    communicator = WebsocketCommunicator(_echo(kind, calls), "/ws/", subprotocols=["chat.v2"])
    assert await communicator.connect() == (True, "chat.v2")
    assert communicator.response_headers == [(b"X-Extra", b"yes")]  # case kept, as upstream
    await communicator.disconnect()
    assert calls == [("connect", None), ("disconnect", 1000)]


@pytest.mark.parametrize(("mode", "expected"), [("deny", (False, 1000)), ("close", (False, 4001))])
async def test_refusal_closes_before_accept(
    kind: dict[str, Any], mode: str, expected: tuple[bool, int]
) -> None:
    calls: list[Any] = []
    communicator = WebsocketCommunicator(_echo(kind, calls, mode=mode), "/ws/")
    assert await communicator.connect() == expected
    await communicator.disconnect()
    assert calls == [("connect", None), ("disconnect", 1000)]


async def test_accept_connection_exception_accepts(kind: dict[str, Any]) -> None:
    communicator = WebsocketCommunicator(_echo(kind, [], mode="raise-accept"), "/ws/")
    assert await communicator.connect() == (True, None)
    await communicator.disconnect()


# --- frames -----------------------------------------------------------------------


async def test_text_and_binary_frames_round_trip(kind: dict[str, Any]) -> None:
    communicator = WebsocketCommunicator(_echo(kind, []), "/ws/?room=7&x=%20y")
    await communicator.connect()
    await communicator.send_to(text_data="héllo")
    assert await communicator.receive_from() == "héllo"
    await communicator.send_to(bytes_data=b"\x00\xff")
    assert await communicator.receive_from() == b"\x00\xff"
    await communicator.send_to(text_data="query")
    assert await communicator.receive_from() == "room=7&x=%20y"
    await communicator.disconnect()


async def test_json_consumers(kind: dict[str, Any]) -> None:
    communicator = WebsocketCommunicator(kind["json"].as_asgi(), "/ws/")
    await communicator.connect()
    await communicator.send_json_to({"n": [1, 2]})
    assert await communicator.receive_json_from() == {"got": {"n": [1, 2]}}
    await communicator.disconnect()


async def test_json_encoder_is_overridable(kind: dict[str, Any]) -> None:
    communicator = WebsocketCommunicator(kind["sorted"].as_asgi(), "/ws/")
    await communicator.connect()
    await communicator.send_json_to({"b": 1, "a": 2})
    assert await communicator.receive_from() == '{"got":{"a":2,"b":1}}'
    await communicator.disconnect()


async def test_json_consumer_refuses_binary_frames(kind: dict[str, Any]) -> None:
    communicator = WebsocketCommunicator(kind["json"].as_asgi(), "/ws/")
    await communicator.connect()
    await communicator.send_to(bytes_data=b"{}")
    with pytest.raises(ValueError, match="text frame holding JSON, got a binary frame of 2 bytes"):
        await communicator.receive_from()


async def test_send_and_close(kind: dict[str, Any]) -> None:
    calls: list[Any] = []
    communicator = WebsocketCommunicator(_echo(kind, calls), "/ws/")
    await communicator.connect()
    await communicator.send_to(text_data="send-and-close")
    assert await communicator.receive_from() == "last words"
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 1000}
    await communicator.disconnect(code=1000)
    assert calls[-1] == ("disconnect", 1000)


# --- state is bookkeeping, never a gate on sending ----------------------------------


class SyncEager(WebsocketConsumer):
    def connect(self) -> None:
        if self.scope["path"] == "/send-first/":
            self.send(text_data="no accept needed")
            return
        self.accept()
        self.accept()
        self.send(text_data="after two accepts")


class AsyncEager(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        if self.scope["path"] == "/send-first/":
            await self.send(text_data="no accept needed")
            return
        await self.accept()
        await self.accept()
        await self.send(text_data="after two accepts")


@pytest.mark.parametrize("eager", [SyncEager, AsyncEager])
async def test_send_before_accept_goes_out_and_accepts_implicitly(eager: Any) -> None:
    communicator = WebsocketCommunicator(eager.as_asgi(), "/send-first/")
    assert await communicator.connect() == (True, None)
    assert await communicator.receive_from() == "no accept needed"
    await communicator.disconnect()


@pytest.mark.parametrize("eager", [SyncEager, AsyncEager])
async def test_accept_twice_sends_both_and_later_sends_still_go_out(eager: Any) -> None:
    communicator = WebsocketCommunicator(eager.as_asgi(), "/twice/")
    assert await communicator.connect() == (True, None)
    assert await communicator.receive_output() == {"type": "websocket.accept", "subprotocol": None}
    assert await communicator.receive_from() == "after two accepts"
    await communicator.disconnect()


async def test_close_is_sent_once(kind: dict[str, Any]) -> None:
    communicator = WebsocketCommunicator(_echo(kind, []), "/ws/")
    await communicator.connect()
    await communicator.send_to(text_data="server-close")
    await communicator.send_to(text_data="server-close")
    assert await communicator.receive_output() == {
        "type": "websocket.close",
        "code": 4002,
        "reason": "bye",
    }
    # The second close() found the socket closed and sent nothing.
    assert await communicator.receive_nothing()
    await communicator.disconnect()


# --- groups ------------------------------------------------------------------------


async def test_groups_joined_on_connect_and_left_on_disconnect(kind: dict[str, Any]) -> None:
    layer = get_channel_layer()
    assert layer is not None
    communicator = WebsocketCommunicator(_echo(kind, [], groups=["news"]), "/ws/")
    await communicator.connect()
    await layer.group_send("news", {"type": "group.ping", "text": "first"})
    assert await communicator.receive_from() == "group:first"
    await communicator.disconnect()
    # After leaving, a new member is the only one that receives.
    other = WebsocketCommunicator(_echo(kind, [], groups=["news"]), "/ws/")
    await other.connect()
    await layer.group_send("news", {"type": "group.ping", "text": "second"})
    assert await other.receive_from() == "group:second"
    await other.disconnect()


async def test_groups_without_a_layer_is_a_clear_error(kind: dict[str, Any]) -> None:
    with override_settings(CHANNEL_LAYERS={}):
        communicator = WebsocketCommunicator(_echo(kind, [], groups=["news"]), "/ws/")
        with pytest.raises(InvalidChannelLayerError, match="needs a channel layer"):
            await communicator.connect()


# --- disconnect() runs exactly once on every path (upstream #1466) -----------------


async def test_disconnect_once_on_client_close(kind: dict[str, Any]) -> None:
    calls: list[Any] = []
    communicator = WebsocketCommunicator(_echo(kind, calls), "/ws/")
    await communicator.connect()
    await communicator.disconnect(code=4100)
    assert calls.count(("disconnect", 4100)) == 1
    assert [c for c in calls if c[0] == "disconnect"] == [("disconnect", 4100)]


async def test_disconnect_once_after_server_close(kind: dict[str, Any]) -> None:
    calls: list[Any] = []
    communicator = WebsocketCommunicator(_echo(kind, calls), "/ws/")
    await communicator.connect()
    await communicator.send_to(text_data="server-close")
    await communicator.receive_output()
    # The server answers a close with websocket.disconnect carrying the code.
    await communicator.disconnect(code=4002)
    assert [c for c in calls if c[0] == "disconnect"] == [("disconnect", 4002)]


async def test_a_handler_error_propagates_without_disconnect_but_groups_are_left(
    kind: dict[str, Any],
) -> None:
    layer = get_channel_layer()
    assert layer is not None
    calls: list[Any] = []
    communicator = WebsocketCommunicator(_echo(kind, calls, groups=["g1"], mode="record"), "/ws/")
    await communicator.connect()
    await communicator.send_to(text_data="explode")
    with pytest.raises(RuntimeError, match="handler blew up"):
        await communicator.wait()
    # As upstream: disconnect() runs only on websocket.disconnect, never before the error.
    assert [c for c in calls if c[0] == "disconnect"] == []
    # The group was left too: a group message no longer lands in the old channel.
    old_channel = next(c[1] for c in calls if c[0] == "channel")
    await layer.group_send("g1", {"type": "group.ping", "text": "x"})
    await layer.send(old_channel, {"type": "group.ping", "text": "marker"})
    assert (await layer.receive(old_channel))["text"] == "marker"


async def test_disconnect_once_on_server_shutdown(kind: dict[str, Any]) -> None:
    calls: list[Any] = []
    communicator = WebsocketCommunicator(_echo(kind, calls), "/ws/")
    await communicator.connect()
    communicator.future.cancel()  # what a server does to its apps when it stops
    with pytest.raises(asyncio.CancelledError):
        await communicator.future
    assert [c for c in calls if c[0] == "disconnect"] == [("disconnect", 1001)]


class SyncStopper(WebsocketConsumer):
    calls: list[Any] = []

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        from channels.exceptions import StopConsumer

        if text_data == "close-and-stop":
            self.close(code=4003)
        raise StopConsumer()

    def disconnect(self, code: int) -> None:
        self.calls.append(("disconnect", code))


class AsyncStopper(AsyncWebsocketConsumer):
    calls: list[Any] = []

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        from channels.exceptions import StopConsumer

        if text_data == "close-and-stop":
            await self.close(code=4003)
        raise StopConsumer()

    async def disconnect(self, code: int) -> None:
        self.calls.append(("disconnect", code))


@pytest.mark.parametrize("stopper", [SyncStopper, AsyncStopper])
@pytest.mark.parametrize(("frame", "code"), [("close-and-stop", 4003), ("stop", 1000)])
async def test_disconnect_once_when_the_consumer_stops_itself(
    stopper: Any, frame: str, code: int
) -> None:
    calls: list[Any] = []
    communicator = WebsocketCommunicator(stopper.as_asgi(calls=calls), "/ws/")
    await communicator.connect()
    await communicator.send_to(text_data=frame)
    await communicator.wait()
    assert calls == [("disconnect", code)]


async def test_bad_frame_crashes_one_consumer_and_others_keep_serving(
    kind: dict[str, Any],
) -> None:
    broken = WebsocketCommunicator(kind["json"].as_asgi(), "/ws/")
    healthy = WebsocketCommunicator(kind["json"].as_asgi(), "/ws/")
    await broken.connect()
    await healthy.connect()
    await broken.send_to(text_data="{not json")
    with pytest.raises(ValueError, match="Expecting property name"):
        await broken.receive_from()
    await healthy.send_json_to([1])
    assert await healthy.receive_json_from() == {"got": [1]}
    await healthy.disconnect()


async def test_a_layer_failing_at_setup_propagates_without_running_disconnect(
    kind: dict[str, Any],
) -> None:
    calls: list[Any] = []
    layers = {"default": {"BACKEND": "channels_tests_app.UnreachableLayer"}}
    with override_settings(CHANNEL_LAYERS=layers):
        communicator = WebsocketCommunicator(_echo(kind, calls, groups=["g"]), "/ws/")
        with pytest.raises(ConnectionError, match="broker unreachable"):
            await communicator.connect()
    assert calls == []


class SyncTagged(JsonWebsocketConsumer):
    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kw: Any):
        super().receive(text_data=text_data, bytes_data=bytes_data, tag="sync")

    def receive_json(self, content: Any, **kwargs: Any) -> None:
        self.send_json({"content": content, **kwargs})


class AsyncTagged(AsyncJsonWebsocketConsumer):
    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kw: Any
    ) -> None:
        await super().receive(text_data=text_data, bytes_data=bytes_data, tag="async")

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"content": content, **kwargs})


@pytest.mark.parametrize(("consumer", "tag"), [(SyncTagged, "sync"), (AsyncTagged, "async")])
async def test_json_receive_passes_extra_keywords_to_receive_json(consumer: Any, tag: str) -> None:
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/")
    assert (await communicator.connect())[0]
    await communicator.send_json_to([1])
    assert await communicator.receive_json_from() == {"content": [1], "tag": tag}
    await communicator.send_to(bytes_data=b"ab")
    with pytest.raises(ValueError, match=r"^No text section for incoming WebSocket frame!"):
        await communicator.receive_from()


async def test_accept_headers_given_as_byte_lists_go_out_exactly_as_given(
    kind: dict[str, Any],
) -> None:
    class SyncListHeaders(WebsocketConsumer):
        def connect(self) -> None:
            self.accept(headers=[[b"Foo", b"bar"]])

    class AsyncListHeaders(AsyncWebsocketConsumer):
        async def connect(self) -> None:
            await self.accept(headers=[[b"Foo", b"bar"]])

    consumer = SyncListHeaders if kind["json"] is SyncJson else AsyncListHeaders
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/")
    assert (await communicator.connect())[0]
    assert communicator.response_headers == [[b"Foo", b"bar"]]
    await communicator.disconnect()
