"""Patterns that third-party libraries written for upstream Channels rely on.

Each test is a small consumer of ours written the way such a library writes
it: GraphQL integrations (a constructor that takes ``schema``), WebSocket
multiplexers (one accept for all children, children's ``accept`` a no-op),
test suites that cancel a receive with ``wait_for``, and session fixtures
that wrap the in-memory layer's housekeeping helpers with a lock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator

# --- a consumer with its own constructor, mounted with as_asgi(schema=...) ------------


class SchemaConsumer(AsyncJsonWebsocketConsumer):
    def __init__(self, schema: dict[str, Any], *args: Any, keep_alive: bool = False, **kwargs: Any):
        self.schema = schema
        self.keep_alive = keep_alive
        super().__init__(*args, **kwargs)

    async def receive_json(self, content: Any) -> None:
        await self.send_json({"data": self.schema[content["query"]], "alive": self.keep_alive})


async def test_a_consumer_with_its_own_constructor_gets_the_as_asgi_keywords() -> None:
    app = SchemaConsumer.as_asgi(schema={"hello": "world"}, keep_alive=True)
    communicator = WebsocketCommunicator(app, "/graphql/")
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"query": "hello"})
    assert await communicator.receive_json_from() == {"data": "world", "alive": True}
    await communicator.disconnect()


# --- a multiplexer that accepts once for its children --------------------------------


class Child(AsyncJsonWebsocketConsumer):
    stream = ""  # set by the multiplexer

    async def connect(self) -> None:
        await self.accept()  # replaced with a no-op by the multiplexer
        await self.send_json({"stream": self.stream, "payload": {"hello": self.scope["path"]}})

    async def receive_json(self, content: Any) -> None:
        await self.send_json({"stream": self.stream, "payload": {"echo": content}})


class Multiplexer(AsyncJsonWebsocketConsumer):
    """Children share the socket's ``send``; only the multiplexer accepts.

    Each child sends through its own ``send`` although, as far as it knows,
    its socket was never accepted.
    """

    children = {"a": Child, "b": Child}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inboxes: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.instances: dict[str, AsyncJsonWebsocketConsumer] = {}
        for name, child_class in self.children.items():
            child = child_class(*args)
            child.stream = name
            child.accept = self._accept_for_child  # type: ignore[method-assign]
            self.instances[name] = child
            self.inboxes[name] = asyncio.Queue()

    async def _accept_for_child(self, subprotocol: str | None = None) -> None:
        """The socket is accepted once, by the multiplexer."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        children = [
            asyncio.ensure_future(child(scope, self.inboxes[name].get, send))
            for name, child in self.instances.items()
        ]
        try:
            await super().__call__(scope, receive, send)
        finally:
            for task in children:
                task.cancel()
            await asyncio.gather(*children, return_exceptions=True)

    async def connect(self) -> None:
        await self.accept()
        for inbox in self.inboxes.values():
            await inbox.put({"type": "websocket.connect"})

    async def receive_json(self, content: Any) -> None:
        await self.inboxes[content["stream"]].put(
            {"type": "websocket.receive", "text": await self.encode_json(content["payload"])}
        )


async def test_children_of_a_multiplexer_send_although_their_accept_is_a_no_op() -> None:
    communicator = WebsocketCommunicator(Multiplexer.as_asgi(), "/mux/")
    assert (await communicator.connect())[0]
    greetings = [await communicator.receive_json_from() for _ in range(2)]
    assert sorted(g["stream"] for g in greetings) == ["a", "b"]
    assert all(g["payload"] == {"hello": "/mux/"} for g in greetings)
    await communicator.send_json_to({"stream": "b", "payload": [1, 2]})
    assert await communicator.receive_json_from() == {"stream": "b", "payload": {"echo": [1, 2]}}
    await communicator.disconnect()


# --- a handler's error is not held up by a slow disconnect() --------------------------


class SlowToLeave(AsyncWebsocketConsumer):
    """Like a multiplexer, its disconnect() waits for children (here: forever)."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raise RuntimeError(f"bad frame {text_data!r}")

    async def disconnect(self, code: int) -> None:
        await asyncio.Event().wait()


async def test_a_handler_error_reaches_the_caller_without_waiting_for_disconnect() -> None:
    communicator = WebsocketCommunicator(SlowToLeave.as_asgi(), "/")
    assert (await communicator.connect())[0]
    await communicator.send_to(text_data="boom")
    with pytest.raises(RuntimeError, match="bad frame 'boom'"):
        await communicator.receive_from()


# --- a receive cancelled by wait_for loses nothing ------------------------------------


class Talker(AsyncWebsocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=f"re: {text_data}")


async def test_the_message_after_a_cancelled_receive_from_is_not_lost() -> None:
    communicator = WebsocketCommunicator(Talker.as_asgi(), "/")
    assert (await communicator.connect())[0]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(communicator.receive_from(timeout=10), 0.1)
    await communicator.send_to(text_data="first")
    assert await communicator.receive_from() == "re: first"
    await communicator.send_to(text_data="second")
    assert await communicator.receive_from() == "re: second"
    await communicator.disconnect()


# --- a session-wide fixture wraps the in-memory layer's helpers with a lock -----------

_calls: list[str] = []


@pytest.fixture(scope="session")
def locked_in_memory_layer() -> Iterator[threading.Lock]:
    lock = threading.Lock()
    originals = {
        name: getattr(InMemoryChannelLayer, name)
        for name in ("_clean_expired", "_remove_from_groups")
    }

    def locked(name: str) -> Any:
        original = originals[name]

        def wrapper(self: Any, *args: Any) -> Any:
            with lock:
                _calls.append(name)
                return original(self, *args)

        return wrapper

    for name in originals:
        setattr(InMemoryChannelLayer, name, locked(name))
    yield lock
    for name, original in originals.items():
        setattr(InMemoryChannelLayer, name, original)


async def test_a_session_fixture_can_wrap_the_in_memory_helpers_with_a_lock(
    locked_in_memory_layer: threading.Lock,
) -> None:
    layer = get_channel_layer()
    assert isinstance(layer, InMemoryChannelLayer)
    await layer.group_add("room", "member.one")
    await layer.group_add("lobby", "member.one")
    await layer.send("inbox", {"type": "note"})
    layer._clean_expired()
    assert list(layer.channels) == ["inbox"]
    layer._remove_from_groups("member.one")
    assert layer.groups == {}
    assert _calls[-2:] == ["_clean_expired", "_remove_from_groups"]
    assert not locked_in_memory_layer.locked()
