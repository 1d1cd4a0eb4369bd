"""The WebSocket consumer: one socket per open room page."""

from __future__ import annotations

from typing import Any

from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from chat.protocol import (
    ChatInputError,
    display_name,
    error_frame,
    group_for_room,
    message_frame,
    moderation_frame,
    new_message_id,
    parse_client_frame,
    welcome_frame,
)

__all__ = ["ChatConsumer", "RefusingConsumer"]


class ChatConsumer(AsyncWebsocketConsumer):
    """Joins the room's group on connect and relays every message to the whole group.

    With background moderation on (``settings.CHAT_MODERATION``), each message is also
    enqueued as a task; the worker's verdict arrives as a ``chat.moderation`` event.

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
        message_id = new_message_id()
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "chat.message",
                "id": message_id,
                "room": self.room,
                "user": self.user_name,
                "message": message,
            },
        )
        if settings.CHAT_MODERATION:
            await self.enqueue_check(message_id, message)

    async def enqueue_check(self, message_id: str, message: str) -> None:
        """Send the moderation check to the task worker (the message is already out).

        The broadcast went first, so the verdict can never reach a page before the
        message it is about.
        """
        # Imported here: chat.tasks needs django.tasks (Django 6.0+), and CHAT_MODERATION
        # is on only where it exists.
        from chat.tasks import check_message

        try:
            await check_message.aenqueue(self.room, message_id, message)
        except ChannelFull:
            await self.send(text_data=error_frame("moderation queue is full; not checked"))

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send(
            text_data=message_frame(event["id"], event["room"], event["user"], event["message"])
        )

    async def chat_moderation(self, event: dict[str, Any]) -> None:
        await self.send(
            text_data=moderation_frame(
                event["id"], event["verdict"], event["reason"], event["worker"]
            )
        )


class RefusingConsumer(AsyncWebsocketConsumer):
    """Refuses a handshake for a path no route matches (say ``/ws/chat/bad.room/``).

    Without it the router raises for an unknown path and the client sees the
    connection drop with a server error; closing before ``accept`` answers the
    handshake with a plain HTTP 403 instead and logs nothing alarming.
    """

    async def connect(self) -> None:
        await self.close()
