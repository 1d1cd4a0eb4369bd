"""The server side of bench/chat_broadcast.py: the tutorial's chat room, nothing more.

Served as ``chat_app:application`` by daphne or uvicorn, from this directory, with either our
packages or upstream's (the same source runs on both). The environment chooses the layer:

``BENCH_LAYER_BACKEND``  dotted path of the channel layer class (required)
``BENCH_REDIS_URL``      Redis URL, with the benchmark's own db number (required)
``BENCH_LAYER_PREFIX``   key prefix, unique per run and stack, so that cleanup is exact
"""

from __future__ import annotations

import json
import os
from typing import Any

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-not-secret",
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["channels"],
    # As the tutorial's project has: a database the consumer never touches.
    DATABASES={
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    },
    USE_TZ=True,
    CHANNEL_LAYERS={
        "default": {
            "BACKEND": os.environ["BENCH_LAYER_BACKEND"],
            "CONFIG": {
                "hosts": [os.environ["BENCH_REDIS_URL"]],
                "prefix": os.environ.get("BENCH_LAYER_PREFIX", "bench-chat"),
                "capacity": 1000,
            },
        }
    },
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class ChatConsumer(AsyncWebsocketConsumer):
    """The tutorial's consumer: join the room, relay each message to the whole room."""

    async def connect(self) -> None:
        self.room_group_name = f"chat_{self.scope['url_route']['kwargs']['room_name']}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = json.loads(text_data or "{}")["message"]
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": message}
        )

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"message": event["message"]}))


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/chat/<str:room_name>/", ChatConsumer.as_asgi())])}
)
