"""The WebSocket consumer: one socket per open room page."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from chat.protocol import (
    ChatInputError,
    display_name,
    error_frame,
    group_for_room,
    message_frame,
    parse_client_frame,
    welcome_frame,
)

__all__ = ["ChatConsumer", "RefusingConsumer"]


class ChatConsumer(AsyncWebsocketConsumer):
    """Joins the room's group on connect and relays every message to the whole group.

    Invariant: ``self.group`` is set only after ``group_add`` succeeded, so
    ``disconnect`` discards exactly the memberships this socket holds.
    """

    group: str | None = None

    async def connect(self) -> None:
        self.room = self.scope["url_route"]["kwargs"]["room_name"]
        # AuthMiddlewareStack resolved the user before the consumer ran, so reading
        # it here does not hit the database from the event loop.
        self.user_name = display_name(self.scope.get("user"))
        group = group_for_room(self.room)
        await self.channel_layer.group_add(group, self.channel_name)
        self.group = group
        await self.accept()
        await self.send(text_data=welcome_frame(self.room, self.user_name))

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = parse_client_frame(text_data, bytes_data)
        except ChatInputError as exc:
            # Bad input is answered on the same socket; the connection stays usable.
            await self.send(text_data=error_frame(str(exc)))
            return
        await self.channel_layer.group_send(
            self.group,
            {"type": "chat.message", "room": self.room, "user": self.user_name, "message": message},
        )

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=message_frame(event["room"], event["user"], event["message"]))


class RefusingConsumer(AsyncWebsocketConsumer):
    """Refuses a handshake for a path no route matches (say ``/ws/chat/bad.room/``).

    Without it the router raises for an unknown path and the client sees the
    connection drop with a server error; closing before ``accept`` answers the
    handshake with a plain HTTP 403 instead and logs nothing alarming.
    """

    async def connect(self) -> None:
        await self.close()
