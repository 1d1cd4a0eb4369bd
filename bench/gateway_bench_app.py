"""The application bench/gateway_bench.py serves both in-process and behind the gateway.

``/echo/`` echoes each text frame; ``/room/`` broadcasts each frame to every member of one
group (channels' consumers on the Redis layer, as the chat tutorial does).
"""

import django

django.setup()  # an entry point, like a project's asgi.py

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class Echo(AsyncWebsocketConsumer):
    channel_layer_alias = "none"  # no layer: the echo measures the relay alone

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data)


class Room(AsyncWebsocketConsumer):
    groups = ["bench-room"]

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send("bench-room", {"type": "room.say", "text": text_data})

    async def room_say(self, event):
        await self.send(text_data=event["text"])


application = URLRouter([path("echo/", Echo.as_asgi()), path("room/", Room.as_asgi())])
