"""The async HTTP consumer: plain responses, long-poll and server-sent events.

Invariants:

* One response per consumer: headers once, then body chunks; the chunk with
  ``more_body=False`` completes it. Anything else raises ``RuntimeError``.
* The consumer stops once the response is complete (after the handler that
  completed it returns) or when the client disconnects.
* ``http.disconnect`` cancels whatever handler is running (a streaming loop
  in ``handle``, say), so a gone client never keeps the consumer alive.
* ``disconnect()`` runs exactly once, on every way out.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .._consumer import AsyncConsumer
from .._frames import HeaderInput, HttpResponseState, http_body, http_start
from .._types import Message
from ..exceptions import StopConsumer

__all__ = ["AsyncHttpConsumer"]


class AsyncHttpConsumer(AsyncConsumer):
    """Override ``handle(body)``; use ``send_headers``/``send_body``/``send_response``."""

    interrupt_types: ClassVar[frozenset[str]] = frozenset({"http.disconnect"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reset_connection_state()

    def _reset_connection_state(self) -> None:
        # Also run by every __call__: an instance that serves a second request
        # (upstream's tests reuse instances) starts with an empty body and response.
        self.body: list[bytes] = []
        self._response = HttpResponseState.PENDING
        self._disconnected = False

    @property
    def response_state(self) -> HttpResponseState:
        """How far this request's response got: ``PENDING``, ``STARTED`` or ``COMPLETE``.

        ``send_headers`` moves it from PENDING to STARTED and the last ``send_body`` (no
        ``more_body``) to COMPLETE; sending out of that order raises ``RuntimeError``.
        """
        return self._response

    async def send_headers(self, *, status: int = 200, headers: HeaderInput = None) -> None:
        """Start the response; headers reach the client with the first body chunk."""
        message = http_start(status, headers)
        self._response = self._response.after_headers()
        await self.send(message)

    async def send_body(self, body: bytes, *, more_body: bool = False) -> None:
        """Send a body chunk; ``more_body=True`` keeps the response open."""
        message = http_body(body, more_body)
        self._response = self._response.after_body(more_body)
        await self.send(message)

    async def send_response(self, status: int, body: bytes, *, headers: HeaderInput = None) -> None:
        """Send a complete response in one go."""
        await self.send_headers(status=status, headers=headers)
        await self.send_body(body)

    async def handle(self, body: bytes) -> None:
        """Called once with the whole request body."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement handle(body) to produce a response"
        )

    async def disconnect(self) -> None:
        """Called exactly once when the request ends, however it ends."""

    async def http_request(self, message: Message) -> None:
        """Collect the request body; call ``handle(body)`` once the last chunk has arrived."""
        chunk = message.get("body", b"")
        if chunk:
            self.body.append(chunk)
        if not message.get("more_body", False):
            await self.handle(b"".join(self.body))

    async def http_disconnect(self, message: Message) -> None:
        """Handle ``http.disconnect``: run ``disconnect()`` once, then stop the consumer."""
        await self._run_disconnect()
        raise StopConsumer()

    async def dispatch(self, message: Message) -> None:
        await super().dispatch(message)
        if self._response is HttpResponseState.COMPLETE:
            await self._run_disconnect()
            raise StopConsumer()

    async def _run_disconnect(self) -> None:
        if self._disconnected:
            return
        self._disconnected = True
        await self.disconnect()

    async def _consumer_finished(self, exc: BaseException | None) -> None:
        await self._run_disconnect()
