"""The chat application the gateway-mode process tests deploy (no tests here).

``GATEWAY_CHAT_VERSION`` (read per connection, never at import) stands for
the application code: a rolling deploy starts workers with a new value.
Each chat message is tagged with the version of the worker that handled it.
A resumed connection is told so once (the app's view of the move); a fresh
one is greeted once (once-per-client work a resumed connect skips).
"""

from __future__ import annotations

import os
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import URLRouter
from django.urls import path


def version() -> str:
    return os.environ.get("GATEWAY_CHAT_VERSION", "v0")


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def websocket_connect(self, message: dict[str, Any]) -> None:
        self.room = self.scope["url_route"]["kwargs"]["room"]
        self.groups = [f"gateway-chat-{self.room}"]
        await super().websocket_connect(message)

    async def connect(self) -> None:
        await self.accept()
        if self.resumed:
            reason = self.scope["extensions"]["resumed"]["reason"]
            await self.send_json({"event": "resumed", "reason": reason, "version": version()})
        else:
            await self.send_json({"event": "hello", "version": version()})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.channel_layer.group_send(
            self.groups[0],
            {
                "type": "chat.message",
                "sender": content["sender"],
                "n": content["n"],
                "version": version(),
            },
        )

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "event": "message",
                "sender": event["sender"],
                "n": event["n"],
                "version": event["version"],
            }
        )


application = URLRouter([path("ws/chat/<str:room>/", ChatConsumer.as_asgi())])
