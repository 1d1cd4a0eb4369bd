"""One WebSocket carrying several logical streams of JSON frames.

Frame format, both directions: ``{"stream": "<name>", "payload": <any JSON>}``.

Invariants:

* Every stream's child application starts when the socket connects and is
  given ``websocket.connect``; the socket is accepted only once every child
  accepted, and closed (with the first refusing child's code) if any child
  refuses, fails, or does not answer within ``connect_timeout`` seconds.
* ``websocket.disconnect`` reaches each still-running child exactly once,
  whichever way the socket ends.
* A child closing after the socket is open closes only its stream: the client
  gets ``{"stream": name, "closed": code}`` and later frames for that stream
  get an error frame.
* Bad client frames (not JSON, not an object, unknown or closed stream) get
  ``{"error": ...}`` frames; the socket and the other streams keep serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from .._frames import WebsocketState, websocket_payload
from .._types import ASGIApp, Message
from ..exceptions import StopConsumer
from ._websocket import AsyncJsonWebsocketConsumer

__all__ = ["AsyncJsonWebsocketDemultiplexer", "StreamChild"]

logger = logging.getLogger("channels.multiplex")

#: Close code when a child crashed or never decided whether to accept.
_INTERNAL_ERROR = 1011
_REFUSED = 403


class StreamChild:
    """One stream: a child application with its own scope and message queue."""

    def __init__(self, parent: AsyncJsonWebsocketDemultiplexer, name: str, app: ASGIApp) -> None:
        self.parent = parent
        self.name = name
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.decided: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self.open = False
        self.disconnect_sent = False
        self.task: asyncio.Task[None] | None = None

    def start(self, scope: Mapping[str, Any]) -> None:
        child_scope = {**scope, "stream": self.name}
        self.task = asyncio.ensure_future(self._run(child_scope))
        self.inbox.put_nowait({"type": "websocket.connect"})

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self.app(scope, self.inbox.get, self.send)
        except Exception:
            logger.exception("Stream %r of %s crashed", self.name, type(self.parent).__name__)
            await self._closed(_INTERNAL_ERROR)
        else:
            await self._closed(None)

    def _decide(self, code: int | None) -> None:
        # None means "accepted"; a code means "refused with this code".
        if not self.decided.done():
            self.decided.set_result(code)

    async def _closed(self, code: int | None) -> None:
        if not self.decided.done():
            self._decide(code if code is not None else _REFUSED)
            return
        if self.open:
            self.open = False
            await self.parent.stream_closed(self, code if code is not None else 1000)

    async def send(self, message: Message) -> None:
        """The child's ASGI ``send``: frames are wrapped with the stream name."""
        kind = message.get("type")
        if kind == "websocket.accept":
            self.open = True
            self._decide(None)
        elif kind == "websocket.close":
            code = int(message.get("code") or 1000)
            await self._closed(code)
            self.deliver_disconnect(code)
        elif kind == "websocket.send":
            if not self.decided.done():
                # A send before any accept accepts implicitly, as a server does.
                self.open = True
                self._decide(None)
            if not self.open:
                raise RuntimeError(
                    f"Stream {self.name!r} sent websocket.send after its stream was closed"
                )
            await self.parent.stream_send(self, message)
        else:
            raise ValueError(
                f"Stream {self.name!r} sent {kind!r}: expected websocket.accept, "
                f"websocket.send or websocket.close"
            )

    def deliver(self, payload: Any) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(payload)})

    def deliver_disconnect(self, code: int) -> None:
        if not self.disconnect_sent:
            self.disconnect_sent = True
            self.inbox.put_nowait({"type": "websocket.disconnect", "code": code})


class AsyncJsonWebsocketDemultiplexer(AsyncJsonWebsocketConsumer):
    """Route JSON frames ``{"stream", "payload"}`` to one child application per stream.

    Set ``applications = {"name": SomeConsumer.as_asgi(), ...}``. Children see
    the socket's scope plus ``scope["stream"]``, receive each payload as a
    JSON text frame and may send JSON text frames back (binary frames cannot
    be carried and are an error in the child).
    """

    applications: ClassVar[Mapping[str, ASGIApp]] = {}
    #: Seconds the children get to accept or refuse the connection.
    connect_timeout: float = 10.0
    #: Seconds each child gets to finish after ``websocket.disconnect``.
    disconnect_timeout: float = 10.0

    _children: dict[str, StreamChild]
    # Frames children sent after accepting but before the socket was
    # accepted; they leave, in order, right after the accept.
    _held: list[dict[str, Any]]

    async def connect(self) -> None:
        if not self.applications:
            raise ValueError(
                f"{type(self).__name__}.applications is empty: map stream names to apps"
            )
        self._held = []
        self._children = {
            name: StreamChild(self, name, app) for name, app in self.applications.items()
        }
        for child in self._children.values():
            child.start(self.scope)
        refusal = await self._collect_decisions()
        if refusal is None:
            await self.accept()
            held, self._held = self._held, []
            for frame in held:
                await self.send_json(frame)
        else:
            await self.close(refusal)
            for child in self._children.values():
                child.deliver_disconnect(refusal)

    async def _collect_decisions(self) -> int | None:
        futures = [child.decided for child in self._children.values()]
        done, _ = await asyncio.wait(futures, timeout=self.connect_timeout)
        for child in self._children.values():
            if child.decided not in done:
                logger.error(
                    "Stream %r neither accepted nor closed within %s s",
                    child.name,
                    self.connect_timeout,
                )
                return _INTERNAL_ERROR
            code = child.decided.result()
            if code is not None:
                return code
        return None

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self.send_error(f"expected a JSON text frame, got {len(bytes_data or b'')} bytes")
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError) as exc:
            await self.send_error(f"expected a JSON text frame, got invalid JSON ({exc!r:.120})")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("stream"), str):
            await self.send_error(
                f'expected {{"stream": "<name>", "payload": ...}}, got {_preview(content)}'
            )
            return
        name = content["stream"]
        child = self._children.get(name)
        if child is None:
            known = ", ".join(sorted(self._children))
            await self.send_error(f"unknown stream {name!r}; streams are: {known}", stream=name)
        elif "payload" not in content:
            await self.send_error("frame has no 'payload'", stream=name)
        elif not child.open:
            await self.send_error(f"stream {name!r} is closed", stream=name)
        else:
            child.deliver(content["payload"])

    async def send_error(self, error: str, stream: str | None = None) -> None:
        """Tell the client about a bad frame; the socket stays open."""
        frame: dict[str, Any] = {"error": error}
        if stream is not None:
            frame["stream"] = stream
        await self.send_json(frame)

    async def stream_send(self, child: StreamChild, message: Message) -> None:
        """Wrap a frame sent by stream *child* as ``{"stream": ..., "payload": ...}``.

        Streams carry JSON text only; a binary frame is a ``ValueError``.
        """
        text, data = websocket_payload(message)
        if text is None:
            raise ValueError(
                f"Stream {child.name!r} sent a binary frame ({len(data or b'')} bytes): "
                f"multiplexed streams carry JSON text frames only"
            )
        try:
            payload: Any = json.loads(text)
        except ValueError:
            payload = text
        await self._send_frame_for_stream({"stream": child.name, "payload": payload})

    async def stream_closed(self, child: StreamChild, code: int) -> None:
        """Tell the client that stream *child* closed with *code*."""
        await self._send_frame_for_stream({"stream": child.name, "closed": code})

    async def _send_frame_for_stream(self, frame: dict[str, Any]) -> None:
        state = self.websocket_state
        if state is WebsocketState.CONNECTING:
            self._held.append(frame)
        elif state is WebsocketState.CONNECTED:
            await self.send_json(frame)
        # Closed: the client is gone; like a server after close, drop the frame.

    async def disconnect(self, code: int) -> None:
        children = list(getattr(self, "_children", {}).values())
        for child in children:
            child.deliver_disconnect(code)
        tasks = [child.task for child in children if child.task is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=self.disconnect_timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def websocket_disconnect(self, message: Message) -> None:
        await self._run_disconnect(message.get("code", 1005))
        raise StopConsumer()


def _preview(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."
