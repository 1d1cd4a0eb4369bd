"""The demultiplexer: streams, accept/refuse, errors, groups, disconnect."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import pytest
from channels.generic.multiplex import AsyncJsonWebsocketDemultiplexer
from channels.generic.websocket import (
    AsyncJsonWebsocketConsumer,
    JsonWebsocketConsumer,
    WebsocketConsumer,
)
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EVENTS: list[Any] = []


class Echo(AsyncJsonWebsocketConsumer):
    groups = ["echoers"]

    async def connect(self) -> None:
        EVENTS.append(("connect", self.scope["stream"]))
        await self.accept()

    async def receive_json(self, content: Any) -> None:
        if content == "close":
            await self.close(4001)
            return
        if content == "crash":
            raise RuntimeError("boom")
        if content == "binary":
            await self.send(bytes_data=b"\x00")
            return
        await self.send_json({"echo": content, "stream": self.scope["stream"]})

    async def news(self, event: dict[str, Any]) -> None:
        await self.send_json({"news": event["text"]})

    async def disconnect(self, code: int) -> None:
        EVENTS.append(("disconnect", self.scope["stream"], code))


class SyncUpper(JsonWebsocketConsumer):
    def receive_json(self, content: Any) -> None:
        self.send_json(str(content).upper())


class PlainText(WebsocketConsumer):
    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.send(text_data="not json")


class Refuse(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.close(4003)


class Silent(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        pass


class Greeter(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        await self.send_json("welcome")
        await self.close(4002)


class SlowToAccept(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        # Lets Greeter accept, send and close before the socket is accepted.
        for _ in range(20):
            await asyncio.sleep(0)
        await self.accept()


class GreetingDemux(AsyncJsonWebsocketDemultiplexer):
    applications: ClassVar[dict[str, Any]] = {
        "greeter": Greeter.as_asgi(),
        "slow": SlowToAccept.as_asgi(),
    }


class Demux(AsyncJsonWebsocketDemultiplexer):
    applications: ClassVar[dict[str, Any]] = {
        "echo": Echo.as_asgi(),
        "upper": SyncUpper.as_asgi(),
        "plain": PlainText.as_asgi(),
    }


class RefusingDemux(AsyncJsonWebsocketDemultiplexer):
    applications: ClassVar[dict[str, Any]] = {"echo": Echo.as_asgi(), "no": Refuse.as_asgi()}


class SilentDemux(AsyncJsonWebsocketDemultiplexer):
    applications: ClassVar[dict[str, Any]] = {"silent": Silent.as_asgi()}
    connect_timeout = 0.2


@pytest.fixture(autouse=True)
def _clear_events() -> None:
    EVENTS.clear()


async def _connected(app: Any = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(app or Demux.as_asgi(), "/")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_frames_route_to_their_stream_and_replies_are_wrapped() -> None:
    communicator = await _connected()
    await communicator.send_json_to({"stream": "echo", "payload": {"n": 1}})
    assert await communicator.receive_json_from() == {
        "stream": "echo",
        "payload": {"echo": {"n": 1}, "stream": "echo"},
    }
    await communicator.send_json_to({"stream": "upper", "payload": "hi"})
    assert await communicator.receive_json_from() == {"stream": "upper", "payload": "HI"}
    await communicator.send_json_to({"stream": "plain", "payload": 1})
    assert await communicator.receive_json_from() == {"stream": "plain", "payload": "not json"}
    await communicator.disconnect()


async def test_every_child_is_connected_and_disconnected_once() -> None:
    communicator = await _connected()
    await communicator.disconnect(code=1001)
    assert ("connect", "echo") in EVENTS
    assert EVENTS.count(("disconnect", "echo", 1001)) == 1


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("not json", "invalid JSON"),
        ("[1, 2]", "expected {"),
        ('{"payload": 1}', "expected {"),
        ('{"stream": "nope", "payload": 1}', "unknown stream 'nope'"),
        ('{"stream": "echo"}', "no 'payload'"),
    ],
)
async def test_bad_frames_get_an_error_frame_and_the_socket_keeps_serving(
    frame: str, error: str
) -> None:
    communicator = await _connected()
    await communicator.send_to(text_data=frame)
    reply = await communicator.receive_json_from()
    assert error in reply["error"]
    await communicator.send_json_to({"stream": "upper", "payload": "still"})
    assert await communicator.receive_json_from() == {"stream": "upper", "payload": "STILL"}
    await communicator.disconnect()


async def test_binary_client_frame_is_an_error_frame() -> None:
    communicator = await _connected()
    await communicator.send_to(bytes_data=b"\x01\x02")
    assert "got 2 bytes" in (await communicator.receive_json_from())["error"]
    await communicator.disconnect()


async def test_a_refusing_child_closes_the_socket_and_the_others_disconnect() -> None:
    communicator = WebsocketCommunicator(RefusingDemux.as_asgi(), "/")
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4003)
    # The server answers the close with websocket.disconnect; children hear of it once.
    await communicator.send_input({"type": "websocket.disconnect", "code": 1006})
    await communicator.wait(timeout=5)
    assert EVENTS.count(("disconnect", "echo", 4003)) == 1


async def test_a_child_that_never_decides_closes_the_socket() -> None:
    communicator = WebsocketCommunicator(SilentDemux.as_asgi(), "/")
    connected, code = await communicator.connect(timeout=5)
    assert (connected, code) == (False, 1011)
    await communicator.disconnect()


async def test_a_child_closing_closes_only_its_stream() -> None:
    communicator = await _connected()
    await communicator.send_json_to({"stream": "echo", "payload": "close"})
    assert await communicator.receive_json_from() == {"stream": "echo", "closed": 4001}
    await communicator.send_json_to({"stream": "echo", "payload": 1})
    assert "stream 'echo' is closed" in (await communicator.receive_json_from())["error"]
    await communicator.send_json_to({"stream": "upper", "payload": "ok"})
    assert await communicator.receive_json_from() == {"stream": "upper", "payload": "OK"}
    await communicator.disconnect()
    assert EVENTS.count(("disconnect", "echo", 4001)) == 1


@pytest.mark.parametrize("payload", ["crash", "binary"])
async def test_a_crashing_child_closes_its_stream_with_1011(payload: str) -> None:
    communicator = await _connected()
    await communicator.send_json_to({"stream": "echo", "payload": payload})
    assert await communicator.receive_json_from() == {"stream": "echo", "closed": 1011}
    await communicator.send_json_to({"stream": "upper", "payload": "ok"})
    assert await communicator.receive_json_from() == {"stream": "upper", "payload": "OK"}
    await communicator.disconnect()


async def test_children_receive_group_messages_on_their_stream() -> None:
    communicator = await _connected()
    layer = get_channel_layer()
    await layer.group_send("echoers", {"type": "news", "text": "hello"})
    assert await communicator.receive_json_from() == {
        "stream": "echo",
        "payload": {"news": "hello"},
    }
    await communicator.disconnect()
    # Leaving the socket removed the child from its group.
    await layer.group_send("echoers", {"type": "news", "text": "again"})
    assert await communicator.receive_nothing()


async def test_empty_applications_is_a_clear_error() -> None:
    class Empty(AsyncJsonWebsocketDemultiplexer):
        pass

    communicator = WebsocketCommunicator(Empty.as_asgi(), "/")
    with pytest.raises(ValueError, match="applications is empty"):
        await communicator.connect()


async def test_frames_sent_before_the_socket_is_accepted_arrive_after_it_in_order() -> None:
    communicator = await _connected(GreetingDemux.as_asgi())
    assert await communicator.receive_json_from() == {"stream": "greeter", "payload": "welcome"}
    assert await communicator.receive_json_from() == {"stream": "greeter", "closed": 4002}
    await communicator.disconnect()


async def test_frames_after_the_client_left_are_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    class Stalling(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content: Any) -> None:
            await release.wait()
            await self.send_json("too late")

    class StallingDemux(AsyncJsonWebsocketDemultiplexer):
        applications: ClassVar[dict[str, Any]] = {"stall": Stalling.as_asgi()}

    communicator = await _connected(StallingDemux.as_asgi())
    await communicator.send_json_to({"stream": "stall", "payload": 1})
    await communicator.send_input({"type": "websocket.disconnect", "code": 1001})
    # The socket is gone (the parent waits for its children) when the child replies.
    for _ in range(20):
        await asyncio.sleep(0)
    release.set()
    await communicator.wait(timeout=5)
    assert "crashed" not in caplog.text


# --- any client frame is routed or answered with an error ---------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
_frames = st.one_of(
    st.text(max_size=20).map(lambda text: ("text", text)),
    st.binary(max_size=8).map(lambda data: ("bytes", data)),
    _json.map(lambda value: ("text", json.dumps(value))),
    st.fixed_dictionaries(
        {"stream": st.sampled_from(["upper", "plain", "nope", ""]), "payload": _json}
    ).map(lambda frame: ("text", json.dumps(frame))),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(_frames, max_size=4))
def test_every_client_frame_gets_exactly_one_answer(frames: list[tuple[str, Any]]) -> None:
    from channels.layers import channel_layers

    channel_layers.backends = {}

    async def exchange() -> None:
        communicator = await _connected()
        for kind, value in frames:
            await communicator.send_to(**{f"{kind}_data": value})
            answer = await communicator.receive_json_from(timeout=5)
            assert "error" in answer or answer["stream"] in ("upper", "plain"), answer
        assert await communicator.receive_nothing()
        await communicator.send_json_to({"stream": "upper", "payload": "alive"})
        assert await communicator.receive_json_from() == {"stream": "upper", "payload": "ALIVE"}
        await communicator.disconnect()

    asyncio.run(exchange())


class SendsWithoutAccept(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.send_json({"hi": "no accept needed"})


class ImplicitDemux(AsyncJsonWebsocketDemultiplexer):
    applications: ClassVar[dict[str, Any]] = {"eager": SendsWithoutAccept.as_asgi()}


async def test_a_child_that_sends_before_accepting_is_accepted_implicitly() -> None:
    communicator = WebsocketCommunicator(ImplicitDemux.as_asgi(), "/mux/")
    assert (await communicator.connect())[0]
    assert await communicator.receive_json_from() == {
        "stream": "eager",
        "payload": {"hi": "no accept needed"},
    }
    await communicator.disconnect()
