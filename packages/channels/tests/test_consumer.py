"""Base consumers: dispatch by type, layers, as_asgi, StopConsumer, concurrency.

Sync and async consumers go through the same tests (``kind`` parameter).
"""

from __future__ import annotations

import asyncio
import functools
import operator
from typing import Any

import pytest
from channels.consumer import AsyncConsumer, SyncConsumer, get_handler_name
from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from channels.testing import ApplicationCommunicator
from django.test import override_settings

SCOPE = {"type": "test"}


async def until(condition: Any) -> None:
    """Wait for *condition* (no deadline here: pytest-timeout bounds the test)."""
    while not condition():
        await asyncio.sleep(0.005)


class SyncEcho(SyncConsumer):
    prefix = "echo"

    def hello_world(self, message: dict[str, Any]) -> None:
        self.send({"type": "reply", "text": f"{self.prefix}:{message['value']}"})

    def whoami(self, message: dict[str, Any]) -> None:
        self.send({"type": "reply", "text": self.channel_name})

    def stop(self, message: dict[str, Any]) -> None:
        raise StopConsumer()

    def explode(self, message: dict[str, Any]) -> None:
        raise RuntimeError("boom from handler")


class AsyncEcho(AsyncConsumer):
    prefix = "echo"

    async def hello_world(self, message: dict[str, Any]) -> None:
        await self.send({"type": "reply", "text": f"{self.prefix}:{message['value']}"})

    async def whoami(self, message: dict[str, Any]) -> None:
        await self.send({"type": "reply", "text": self.channel_name})

    async def stop(self, message: dict[str, Any]) -> None:
        raise StopConsumer()

    async def explode(self, message: dict[str, Any]) -> None:
        raise RuntimeError("boom from handler")


ECHO = {"sync": SyncEcho, "async": AsyncEcho}


@pytest.fixture(params=["sync", "async"])
def echo(request: pytest.FixtureRequest) -> type[AsyncConsumer]:
    return ECHO[request.param]  # type: ignore[return-value]


def test_handler_names() -> None:
    assert get_handler_name({"type": "websocket.receive"}) == "websocket_receive"
    assert get_handler_name({"type": "chat.message.new"}) == "chat_message_new"
    with pytest.raises(ValueError, match="underscore"):
        get_handler_name({"type": "_private.thing"})
    with pytest.raises(ValueError, match=r"^Incoming message has no 'type' attribute"):
        get_handler_name({"text": "x"})
    with pytest.raises(ValueError, match="must be a str"):
        get_handler_name({"type": 5})


async def test_dispatch_by_type(echo: type[AsyncConsumer]) -> None:
    communicator = ApplicationCommunicator(echo.as_asgi(), SCOPE)
    await communicator.send_input({"type": "hello.world", "value": 1})
    assert await communicator.receive_output() == {"type": "reply", "text": "echo:1"}
    await communicator.send_input({"type": "stop"})
    await communicator.wait()


async def test_as_asgi_sets_attributes_per_instance(echo: type[AsyncConsumer]) -> None:
    communicator = ApplicationCommunicator(echo.as_asgi(prefix="custom"), SCOPE)
    await communicator.send_input({"type": "hello.world", "value": 2})
    assert (await communicator.receive_output())["text"] == "custom:2"
    communicator.stop()
    assert echo.prefix == "echo"  # type: ignore[attr-defined]


async def test_as_asgi_passes_its_keywords_to_the_constructor(
    echo: type[AsyncConsumer],
) -> None:
    app = echo.as_asgi(colour="red")
    assert app.consumer_class is echo  # type: ignore[attr-defined]
    assert app.consumer_initkwargs == {"colour": "red"}  # type: ignore[attr-defined]
    # The base constructor keeps unknown keywords as instance attributes.
    assert echo(colour="red").colour == "red"  # type: ignore[attr-defined]
    assert not hasattr(echo, "colour")


class SchemaConsumer(AsyncConsumer):
    """A consumer with its own constructor, as GraphQL integrations write them."""

    def __init__(self, schema: dict[str, str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = schema

    async def ask(self, message: dict[str, Any]) -> None:
        await self.send({"type": "answer", "value": self.schema[message["field"]]})


async def test_a_consumer_mounted_with_as_asgi_schema_gets_it_in_its_constructor() -> None:
    app = SchemaConsumer.as_asgi(schema={"hello": "world"})
    communicator = ApplicationCommunicator(app, SCOPE)
    await communicator.send_input({"type": "ask", "field": "hello"})
    assert await communicator.receive_output() == {"type": "answer", "value": "world"}
    communicator.stop()


async def test_as_asgi_app_returns_what_the_consumer_returns() -> None:
    class Returning(AsyncConsumer):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
            return "done"

    assert await Returning.as_asgi()({"type": "test"}, None, None) == "done"


@pytest.mark.parametrize(
    ("message_type", "error"),
    [
        ("_private", r"^Malformed type in message \(leading underscore\)"),
        (".private", r"^Malformed type in message \(leading underscore\)"),
        ("missing.handler", r"^No handler for message type missing\.handler .*'missing_handler'"),
        ("send", "part of the consumer API"),
        ("dispatch", "part of the consumer API"),
    ],
)
async def test_bad_message_types_raise_clear_errors(
    echo: type[AsyncConsumer], message_type: str, error: str
) -> None:
    communicator = ApplicationCommunicator(echo.as_asgi(), SCOPE)
    await communicator.send_input({"type": message_type})
    with pytest.raises(ValueError, match=error):
        await communicator.wait()


async def test_handler_exception_propagates(echo: type[AsyncConsumer]) -> None:
    communicator = ApplicationCommunicator(echo.as_asgi(), SCOPE)
    await communicator.send_input({"type": "explode"})
    with pytest.raises(RuntimeError, match="boom from handler"):
        await communicator.wait()


async def test_channel_layer_messages_reach_handlers(echo: type[AsyncConsumer]) -> None:
    communicator = ApplicationCommunicator(echo.as_asgi(), SCOPE)
    await communicator.send_input({"type": "whoami"})
    channel_name = (await communicator.receive_output())["text"]
    assert channel_name.startswith("specific.") and "!" in channel_name
    layer = get_channel_layer()
    assert layer is not None
    await layer.send(channel_name, {"type": "hello.world", "value": "via layer"})
    assert (await communicator.receive_output())["text"] == "echo:via layer"
    communicator.stop()


async def test_without_layer_there_is_no_channel(echo: type[AsyncConsumer]) -> None:
    seen: dict[str, Any] = {}

    class Probe(echo):  # type: ignore[valid-type,misc]
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await super().__call__(scope, receive, send)
            seen["layer"] = self.channel_layer

    with override_settings(CHANNEL_LAYERS={}):
        communicator = ApplicationCommunicator(Probe.as_asgi(), SCOPE)
        await communicator.send_input({"type": "stop"})
        await communicator.wait()
    assert seen == {"layer": None}


class Gate(AsyncConsumer):
    """Handlers block on events so tests can observe what runs concurrently."""

    started: list[str]
    events: dict[str, asyncio.Event]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.started, self.events = scope["started"], scope["events"]
        await super().__call__(scope, receive, send)

    async def job(self, message: dict[str, Any]) -> None:
        self.started.append(message["name"])
        await self.events[message["name"]].wait()
        await self.send({"type": "done", "name": message["name"]})

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        self.started.append("disconnect")
        raise StopConsumer()


async def test_sequential_by_default_and_concurrent_when_opted_in() -> None:
    layer = get_channel_layer()
    assert layer is not None
    for concurrency, expected_overlap in ((1, False), (2, True)):
        started: list[str] = []
        events = {name: asyncio.Event() for name in ("a", "b")}
        names: list[str] = []

        class Probe(Gate):
            async def hello(self, message: dict[str, Any]) -> None:
                self.scope["names"].append(self.channel_name)
                await self.send({"type": "hello"})

        scope = {"type": "test", "started": started, "events": events, "names": names}
        app = Probe.as_asgi(max_concurrent_handlers=concurrency)
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "hello"})
        await communicator.receive_output()
        await layer.send(names[0], {"type": "job", "name": "a"})
        await layer.send(names[0], {"type": "job", "name": "b"})
        # Wait for what must start, then give the rest every chance to start too.
        expected = ["a", "b"] if expected_overlap else ["a"]
        await until(functools.partial(operator.eq, started, expected))
        assert await communicator.receive_nothing(timeout=0.2)
        assert started == expected
        events["b"].set()
        if expected_overlap:
            assert await communicator.receive_output() == {"type": "done", "name": "b"}
        events["a"].set()
        assert await communicator.receive_output() == {"type": "done", "name": "a"}
        if not expected_overlap:
            assert await communicator.receive_output() == {"type": "done", "name": "b"}
        assert started == ["a", "b"]
        communicator.stop()


async def test_concurrent_disconnect_waits_for_running_handlers() -> None:
    layer = get_channel_layer()
    assert layer is not None
    started: list[str] = []
    events = {"a": asyncio.Event()}
    names: list[str] = []

    class Probe(Gate):
        async def hello(self, message: dict[str, Any]) -> None:
            names.append(self.channel_name)
            await self.send({"type": "hello"})

    scope = {"type": "test", "started": started, "events": events}
    communicator = ApplicationCommunicator(Probe.as_asgi(max_concurrent_handlers=4), scope)
    await communicator.send_input({"type": "hello"})
    await communicator.receive_output()
    await layer.send(names[0], {"type": "job", "name": "a"})
    await until(lambda: started == ["a"])  # "a" runs before the disconnect arrives
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    assert await communicator.receive_nothing(timeout=0.2)
    # A job arriving after the held disconnect does not overtake it.
    await layer.send(names[0], {"type": "job", "name": "b"})
    assert await communicator.receive_nothing(timeout=0.2)
    assert started == ["a"]  # the disconnect is held back behind the running job
    events["a"].set()
    assert await communicator.receive_output() == {"type": "done", "name": "a"}
    await communicator.wait()
    assert started == ["a", "disconnect"]


def test_invalid_concurrency_is_refused() -> None:
    from channels._dispatcher import DispatchLoop

    async def handler(message: dict[str, Any]) -> None:
        pass

    with pytest.raises(ValueError, match="max_concurrency must be an int >= 1, got 0"):
        DispatchLoop([], handler, max_concurrency=0)


class Blocking(AsyncConsumer):
    async def hello(self, message: dict[str, Any]) -> None:
        self.scope["names"].append(self.channel_name)
        await self.send({"type": "hello"})

    async def job(self, message: dict[str, Any]) -> None:
        self.scope["started"].append(message["name"])
        if message["name"] == "fail":
            raise RuntimeError("job failed")
        await self.scope["release"].wait()
        self.scope["finished"].append(message["name"])

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        await self.job({"name": message["text"]})


async def _blocking(concurrency: int) -> tuple[ApplicationCommunicator, dict[str, Any], str]:
    scope: dict[str, Any] = {
        "type": "test",
        "names": [],
        "started": [],
        "finished": [],
        "release": asyncio.Event(),
    }
    app = Blocking.as_asgi(max_concurrent_handlers=concurrency)
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "hello"})
    await communicator.receive_output()
    return communicator, scope, scope["names"][0]


async def test_busy_consumer_leaves_the_backlog_in_the_layer() -> None:
    from channels.exceptions import ChannelFull

    config = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 2}}
    }
    with override_settings(CHANNEL_LAYERS=config):
        layer = get_channel_layer()
        assert layer is not None
        communicator, scope, channel = await _blocking(1)
        await layer.send(channel, {"type": "job", "name": "first"})
        await until(lambda: scope["started"] == ["first"])
        # The consumer does not read ahead: capacity applies to what waits.
        await layer.send(channel, {"type": "job", "name": "second"})
        await layer.send(channel, {"type": "job", "name": "third"})
        with pytest.raises(ChannelFull):
            await layer.send(channel, {"type": "job", "name": "fourth"})
        scope["release"].set()
        await until(lambda: len(scope["finished"]) == 3)
        assert scope["finished"] == ["first", "second", "third"]
        communicator.stop()


async def test_concurrent_mode_keeps_client_messages_in_order() -> None:
    communicator, scope, _ = await _blocking(4)
    await communicator.send_input({"type": "websocket.receive", "text": "c1"})
    await communicator.send_input({"type": "websocket.receive", "text": "c2"})
    await until(lambda: scope["started"] == ["c1"])
    assert await communicator.receive_nothing(timeout=0.1)
    assert scope["started"] == ["c1"]  # c2 waits for c1, although 3 slots are free
    scope["release"].set()
    await until(lambda: len(scope["finished"]) == 2)
    assert scope["finished"] == ["c1", "c2"]
    communicator.stop()


async def test_concurrent_mode_first_exception_cancels_the_rest() -> None:
    layer = get_channel_layer()
    assert layer is not None
    communicator, scope, channel = await _blocking(4)
    await layer.send(channel, {"type": "job", "name": "slow"})
    await until(lambda: scope["started"] == ["slow"])
    await layer.send(channel, {"type": "job", "name": "fail"})
    with pytest.raises(RuntimeError, match="job failed"):
        await communicator.wait()
    assert scope["started"] == ["slow", "fail"]
    scope["release"].set()
    await asyncio.sleep(0.05)  # would let a surviving "slow" handler finish
    assert scope["finished"] == []  # "slow" was cancelled, never finished
