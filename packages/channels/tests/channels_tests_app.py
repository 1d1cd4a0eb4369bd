"""The tutorial chat app the end-to-end tests (and the live server) run.

Rooms by URL, group broadcast, AuthMiddlewareStack, AllowedHostsOriginValidator,
and a background worker task ("shout") that a consumer triggers.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import async_to_sync
from channels.auth import AuthMiddlewareStack
from channels.consumer import SyncConsumer
from channels.generic.http import AsyncHttpConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import InMemoryChannelLayer
from channels.lifespan import Lifespan
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path

BACKGROUND_CHANNEL = "background-tasks"


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"chat_{self.room_name}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        data = json.loads(text_data or "{}")
        user = self.scope["user"]
        author = user.username if user.is_authenticated else "anonymous"
        if "shout" in data:
            await self.channel_layer.send(
                BACKGROUND_CHANNEL,
                {"type": "shout", "room": self.room_group_name, "text": data["shout"]},
            )
            return
        await self.channel_layer.group_send(
            self.room_group_name,
            {"type": "chat.message", "message": data["message"], "user": author},
        )

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"message": event["message"], "user": event["user"]}))


class BackgroundConsumer(SyncConsumer):
    """Runs in the worker: turns a request into a broadcast to the room."""

    def shout(self, message: dict[str, Any]) -> None:
        async_to_sync(self.channel_layer.group_send)(
            message["room"],
            {"type": "chat.message", "message": message["text"].upper(), "user": "worker"},
        )


class SlowConsumer(SyncConsumer):
    """For the SIGTERM test: marks start, waits for a release file, marks finish."""

    def slow(self, message: dict[str, Any]) -> None:
        directory = Path(message["dir"])
        (directory / "started").write_text("1")
        while not (directory / "release").exists():
            time.sleep(0.01)
        (directory / "finished").write_text("1")


class SeededLayer(InMemoryChannelLayer):
    """In-memory layer pre-loaded from a JSON file, so a runworker subprocess has work."""

    def __init__(self, seed_env: str = "CHANNELS_TEST_SEED", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seed_path = os.environ.get(seed_env)
        self._seeded = False

    async def receive(self, channel: str) -> dict[str, Any]:
        if not self._seeded and self._seed_path:
            self._seeded = True
            for item in json.loads(Path(self._seed_path).read_text()):
                await self.send(item["channel"], item["message"])
        return await super().receive(channel)


#: The live-server tests set this in the parent process; a spawned child
#: re-imports the module and so reports the default.
PARENT_MARK = "unset"


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello from django")


def parent_mark(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PARENT_MARK)


urlpatterns = [path("hello/", hello), path("parent-mark/", parent_mark)]


class EventStream(AsyncHttpConsumer):
    """Server-sent events until the client leaves; disconnect() leaves a marker file."""

    async def handle(self, body: bytes) -> None:
        await self.send_headers(headers={"Content-Type": "text/event-stream"})
        number = 0
        while True:
            await self.send_body(f"data: {number}\n\n".encode(), more_body=True)
            number += 1
            await asyncio.sleep(0.05)

    async def disconnect(self) -> None:
        query = parse_qs(self.scope["query_string"].decode())
        if "marker" in query:
            Path(query["marker"][0]).write_text("disconnected")


class MarkerConsumer(AsyncWebsocketConsumer):
    """Appends each disconnect() code to the file named by ?marker= (server tests)."""

    async def disconnect(self, code: int) -> None:
        query = parse_qs(self.scope["query_string"].decode())
        with open(query["marker"][0], "a") as marker:
            marker.write(f"{code}\n")


def _lifespan_marker(event: str) -> None:
    # Read at call time: only the server tests set the directory.
    directory = os.environ.get("CHANNELS_TEST_LIFESPAN_DIR")
    if directory:
        (Path(directory) / event).write_text(event)


lifespan = Lifespan(
    on_startup=[lambda: _lifespan_marker("startup")],
    on_shutdown=[lambda: _lifespan_marker("shutdown")],
)

websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room_name>\w+)/$", ChatConsumer.as_asgi()),
    path("ws/marker/", MarkerConsumer.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "http": URLRouter(
            [path("events/", EventStream.as_asgi()), re_path(r"", get_asgi_application())]
        ),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
        "lifespan": lifespan,
        "channel": ChannelNameRouter(
            {BACKGROUND_CHANNEL: BackgroundConsumer.as_asgi(), "slow-tasks": SlowConsumer.as_asgi()}
        ),
    }
)


class UnreachableLayer(InMemoryChannelLayer):
    """A layer whose broker is down: no channel can be created."""

    async def new_channel(self, prefix: str = "specific.") -> str:
        raise ConnectionError("broker unreachable at 127.0.0.1:1")
