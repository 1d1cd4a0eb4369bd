"""WebSocket consumers: thin sync and async adapters over WebsocketProtocol."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync

from .._consumer import AsyncConsumer, SyncConsumer
from .._db import database_sync_to_async
from .._frames import HeaderInput, websocket_payload
from .._types import Message
from ..exceptions import AcceptConnection, DenyConnection, StopConsumer
from ._protocol import SERVICE_RESTART, JsonCodec, WebsocketProtocol, json_text

__all__ = [
    "AsyncJsonWebsocketConsumer",
    "AsyncWebsocketConsumer",
    "JsonWebsocketConsumer",
    "WebsocketConsumer",
]

logger = logging.getLogger("channels.consumer")


class WebsocketConsumer(WebsocketProtocol, SyncConsumer):
    """Synchronous WebSocket consumer: override connect, receive and disconnect."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reset_connection_state()

    def websocket_connect(self, message: Message) -> None:
        """Handle ``websocket.connect``: join the class's ``groups``, then call ``connect()``.

        Raising ``AcceptConnection`` or ``DenyConnection`` from ``connect`` accepts or refuses.
        """
        self._offer_channel_handback()
        async_to_sync(self._join_groups)()
        try:
            self.connect()
        except AcceptConnection:
            self.accept()
        except DenyConnection:
            self.close()

    def connect(self) -> None:
        """Called when the client asks to open the socket; accepts it by default.

        Override to decide: call ``accept()``, or ``close()`` to refuse with HTTP 403.
        """
        self.accept()

    def accept(self, subprotocol: str | None = None, headers: HeaderInput = None) -> None:
        """Accept the handshake, optionally choosing a *subprotocol* and adding *headers*."""
        SyncConsumer.send(self, self._accept_frame(subprotocol, headers))

    def websocket_receive(self, message: Message) -> None:
        """Handle ``websocket.receive``: call ``receive()`` with the frame's text or bytes."""
        text_data, bytes_data = websocket_payload(message)
        self.receive(text_data=text_data, bytes_data=bytes_data)

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each frame from the client."""

    def send(  # type: ignore[override]
        self,
        text_data: str | None = None,
        bytes_data: bytes | None = None,
        close: bool | int = False,
    ) -> None:
        SyncConsumer.send(self, self._send_frame(text_data, bytes_data))
        if close:
            self.close(close)

    def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """Close the socket with *code* (1000 by default), or refuse it if not accepted yet.

        Closing an already closed socket does nothing.
        """
        frame = self._close_frame(code, reason)
        if frame is not None:
            SyncConsumer.send(self, frame)

    def websocket_disconnect(self, message: Message) -> None:
        """Handle ``websocket.disconnect``: leave the groups, call ``disconnect()``, stop."""
        self._run_disconnect(self._note_disconnect(message))
        raise StopConsumer()

    def websocket_handback(self, message: Message) -> None:
        """Gateway mode: the connection moves to another worker (the socket stays open)."""
        if not self._handback_is_mine(message):
            return
        self.handed_back = True
        self._run_disconnect(SERVICE_RESTART)
        raise StopConsumer()

    def _run_disconnect(self, code: int) -> None:
        if not self.claim_disconnect():
            return
        try:
            async_to_sync(self._leave_groups)()
        finally:
            self.disconnect(code)

    def disconnect(self, code: int) -> None:
        """Called exactly once when the socket ends, however it ends."""

    async def _consumer_finished(self, exc: BaseException | None) -> None:
        if not self._disconnect_claimed:
            await database_sync_to_async(self._run_disconnect)(self._exit_code(exc))

    async def _consumer_failed(self, exc: BaseException) -> None:
        await self._release_groups()


class JsonWebsocketConsumer(JsonCodec, WebsocketConsumer):
    """WebSocket consumer that speaks JSON text frames."""

    def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        # Extra keywords reach receive_json, as upstream's (subclasses pass context that way).
        self.receive_json(self.decode_json(json_text(text_data, bytes_data)), **kwargs)

    def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Called with each decoded JSON frame."""

    def send_json(self, content: Any, close: bool | int = False) -> None:
        """Send *content* encoded as a JSON text frame; *close* closes the socket afterwards."""
        self.send(text_data=self.encode_json(content), close=close)


class AsyncWebsocketConsumer(WebsocketProtocol, AsyncConsumer):
    """Asynchronous WebSocket consumer: override connect, receive and disconnect."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reset_connection_state()

    async def websocket_connect(self, message: Message) -> None:
        """Handle ``websocket.connect``: join the class's ``groups``, then await ``connect()``.

        Raising ``AcceptConnection`` or ``DenyConnection`` from ``connect`` accepts or refuses.
        """
        self._offer_channel_handback()
        await self._join_groups()
        try:
            await self.connect()
        except AcceptConnection:
            await self.accept()
        except DenyConnection:
            await self.close()

    async def connect(self) -> None:
        """Called when the client asks to open the socket; accepts it by default.

        Override to decide: await ``accept()``, or ``close()`` to refuse with HTTP 403.
        """
        await self.accept()

    async def accept(self, subprotocol: str | None = None, headers: HeaderInput = None) -> None:
        """Accept the handshake, optionally choosing a *subprotocol* and adding *headers*."""
        await AsyncConsumer.send(self, self._accept_frame(subprotocol, headers))

    async def websocket_receive(self, message: Message) -> None:
        """Handle ``websocket.receive``: await ``receive()`` with the frame's text or bytes."""
        text_data, bytes_data = websocket_payload(message)
        await self.receive(text_data=text_data, bytes_data=bytes_data)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each frame from the client."""

    async def send(  # type: ignore[override]
        self,
        text_data: str | None = None,
        bytes_data: bytes | None = None,
        close: bool | int = False,
    ) -> None:
        await AsyncConsumer.send(self, self._send_frame(text_data, bytes_data))
        if close:
            await self.close(close)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """Close the socket with *code* (1000 by default), or refuse it if not accepted yet.

        Closing an already closed socket does nothing.
        """
        frame = self._close_frame(code, reason)
        if frame is not None:
            await AsyncConsumer.send(self, frame)

    async def websocket_disconnect(self, message: Message) -> None:
        """Handle ``websocket.disconnect``: leave the groups, await ``disconnect()``, stop."""
        await self._run_disconnect(self._note_disconnect(message))
        raise StopConsumer()

    async def websocket_handback(self, message: Message) -> None:
        """Gateway mode: the connection moves to another worker (the socket stays open)."""
        if not self._handback_is_mine(message):
            return
        self.handed_back = True
        await self._run_disconnect(SERVICE_RESTART)
        raise StopConsumer()

    async def _run_disconnect(self, code: int) -> None:
        if not self.claim_disconnect():
            return
        try:
            await self._leave_groups()
        finally:
            await self.disconnect(code)

    async def disconnect(self, code: int) -> None:
        """Called exactly once when the socket ends, however it ends."""

    async def _consumer_finished(self, exc: BaseException | None) -> None:
        if not self._disconnect_claimed:
            await self._run_disconnect(self._exit_code(exc))

    async def _consumer_failed(self, exc: BaseException) -> None:
        await self._release_groups()


class AsyncJsonWebsocketConsumer(AsyncWebsocketConsumer):
    """Asynchronous WebSocket consumer that speaks JSON text frames."""

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        content = await self.decode_json(json_text(text_data, bytes_data))
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Called with each decoded JSON frame."""

    async def send_json(self, content: Any, close: bool | int = False) -> None:
        """Send *content* encoded as a JSON text frame; *close* closes the socket afterwards."""
        await self.send(text_data=await self.encode_json(content), close=close)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Decode one text frame; override to use another JSON library."""
        return JsonCodec.decode_json(text_data)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        """Encode *content* for one text frame; override to use another JSON library."""
        return JsonCodec.encode_json(content)
