"""WebSocket consumer state shared by the sync and async consumer classes.

Invariants:

* The state (connecting, connected, closed) is bookkeeping, never a gate on
  sending, as upstream's consumers: a multiplexer accepts once for its
  children and turns their ``accept`` into a no-op, and their sends must
  still leave. A ``send`` while connecting counts as the accept (servers
  accept the socket implicitly on the first ``websocket.send``).
* ``close`` is idempotent: once closed, further closes send nothing.
* ``disconnect()`` runs at most once per consumer: on the client's close, a
  server close, the consumer's own ``StopConsumer`` and server shutdown.
  A handler exception propagates at once; only the groups are left.
  :meth:`WebsocketProtocol.claim_disconnect` is the single gate for that.
* Gateway mode (daphne's ``daphne-gateway``): a connection can move to
  another worker while its socket stays open. The new instance sees
  :attr:`WebsocketProtocol.resumed` True; it joins ``groups`` again (adding
  is idempotent) and its ``accept`` is not repeated to the client. The old
  instance gets a disconnect with ``"handback": True``
  (:attr:`WebsocketProtocol.handed_back`) and keeps its group memberships:
  its channel name belongs to the connection, not the worker, so group
  messages sent during the move wait for the next instance. A consumer that
  reads that channel asks for the handback as a ``websocket.handback``
  message on it (``handback_via_channel``): it handles every group message
  queued before the handback and none after, so none is lost or doubled.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.layers import InvalidChannelLayerError

from .._consumer import stable_channel_name
from .._frames import (
    HeaderInput,
    WebsocketState,
    websocket_accept,
    websocket_close,
    websocket_send,
)
from .._types import Message, Scope

__all__ = ["JsonCodec", "WebsocketProtocol", "exit_close_code", "json_text"]

#: Close codes reported to ``disconnect()`` when no client close code exists.
NORMAL_CLOSURE = 1000
GOING_AWAY = 1001
SERVICE_RESTART = 1012
INTERNAL_ERROR = 1011


def exit_close_code(exc: BaseException) -> int:
    """Code passed to ``disconnect()`` when the consumer ends without a client close."""
    return GOING_AWAY if isinstance(exc, asyncio.CancelledError) else INTERNAL_ERROR


def json_text(text_data: str | None, bytes_data: bytes | None) -> str:
    """Return the text of a frame that must carry JSON, or say what arrived instead."""
    if text_data is None:
        size = len(bytes_data or b"")
        raise ValueError(
            f"No text section for incoming WebSocket frame! Expected a text frame holding "
            f"JSON, got a binary frame of {size} bytes"
        )
    return text_data


class WebsocketProtocol:
    """Pure bookkeeping mixed into the WebSocket consumers."""

    groups: list[str] | None = None
    channel_layer: Any
    channel_name: str

    scope: Scope
    #: True on the instance whose connection was just handed back to the gateway.
    handed_back: bool = False
    _ws_state: WebsocketState
    _disconnect_claimed: bool
    _sent_close_code: int | None

    def _reset_connection_state(self) -> None:
        # Run by the constructor and again by every __call__: an instance that
        # serves a second connection (upstream's tests reuse instances) starts afresh.
        self.groups = list(self.groups or [])
        self._ws_state = WebsocketState.CONNECTING
        self._disconnect_claimed = False
        self._sent_close_code = None
        self.handed_back = False

    @property
    def resumed(self) -> bool:
        """True when this connection was already open and moved here from another worker.

        ``connect()`` still runs (call ``accept()`` as usual: the gateway does not
        repeat it to the client); skip there what must happen once per client,
        such as greeting it or announcing it to a room.
        """
        extensions = getattr(self, "scope", {}).get("extensions") or {}
        return "resumed" in extensions

    def _offer_channel_handback(self) -> None:
        """In gateway mode, take the handback on this consumer's channel (see above)."""
        gateway = (getattr(self, "scope", {}).get("extensions") or {}).get("daphne.gateway")
        name = getattr(self, "channel_name", None)
        if isinstance(gateway, dict) and name and gateway.get("channel_name") == name:
            gateway["handback_via_channel"] = True

    def _handback_is_mine(self, message: Message) -> bool:
        """A ``websocket.handback`` left on the channel for an earlier instance is ignored."""
        gateway = (getattr(self, "scope", {}).get("extensions") or {}).get("daphne.gateway")
        return isinstance(gateway, dict) and message.get("epoch") == gateway.get("epoch")

    def _note_disconnect(self, message: Message) -> int:
        """Record whether the disconnect is a handback; return the code for ``disconnect()``."""
        self.handed_back = bool(message.get("handback"))
        return int(message.get("code", 1005))

    def _exit_code(self, exc: BaseException | None) -> int:
        """Code for ``disconnect()`` when the consumer ends without a client close.

        A handler exception reports 1011, a server shutdown (cancellation)
        1001; a consumer that stopped itself (``StopConsumer``) reports the
        code it closed with, or 1000.
        """
        if exc is not None:
            return exit_close_code(exc)
        return self._sent_close_code or NORMAL_CLOSURE

    @property
    def websocket_state(self) -> WebsocketState:
        return self._ws_state

    async def _join_groups(self) -> None:
        if self.groups:
            layer = self._group_layer()
            for group in self.groups:
                await layer.group_add(group, self.channel_name)

    async def _leave_groups(self) -> None:
        # A consumer that never got a channel (the layer failed at start) has
        # joined nothing; a handed-back one leaves its memberships to the next
        # instance on the same channel name.
        if self.handed_back and stable_channel_name(getattr(self, "scope", {})):
            return
        if self.groups and hasattr(self, "channel_name"):
            layer = self._group_layer()
            for group in self.groups:
                await layer.group_discard(group, self.channel_name)

    async def _release_groups(self) -> None:
        """After a handler crashed: leave the groups, but run no user code."""
        if self.claim_disconnect():
            await self._leave_groups()

    def _group_layer(self) -> Any:
        layer = self.channel_layer
        if layer is None or not hasattr(layer, "group_add"):
            raise InvalidChannelLayerError(
                f"{type(self).__name__}.groups is {self.groups!r}, which needs a channel layer "
                f"with groups, but the layer is {layer!r}: configure CHANNEL_LAYERS"
            )
        return layer

    def _accept_frame(self, subprotocol: str | None, headers: HeaderInput) -> Message:
        frame = websocket_accept(subprotocol, headers)
        self._mark_connected()
        return frame

    def _send_frame(self, text_data: str | None, bytes_data: bytes | None) -> Message:
        frame = websocket_send(text_data, bytes_data)
        self._mark_connected()
        return frame

    def _mark_connected(self) -> None:
        if self._ws_state is WebsocketState.CONNECTING:
            self._ws_state = WebsocketState.CONNECTED

    def _close_frame(self, code: int | bool | None, reason: str | None) -> Message | None:
        if self._ws_state is WebsocketState.CLOSED:
            return None
        frame = websocket_close(code, reason)
        self._ws_state = WebsocketState.CLOSED
        self._sent_close_code = frame.get("code", NORMAL_CLOSURE)
        return frame

    def claim_disconnect(self) -> bool:
        """Return True exactly once: the caller then runs the disconnect steps."""
        self._ws_state = WebsocketState.CLOSED
        if self._disconnect_claimed:
            return False
        self._disconnect_claimed = True
        return True


class JsonCodec:
    """Overridable JSON hooks shared by both JSON consumers."""

    @classmethod
    def decode_json(cls, text_data: str) -> Any:
        return json.loads(text_data)

    @classmethod
    def encode_json(cls, content: Any) -> str:
        return json.dumps(content)
