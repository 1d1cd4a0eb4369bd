"""One HTTP request/response exchange as the application sees it, independent of the wire.

The cycle owns the ASGI ``receive``/``send`` pair for a request and enforces the message order
(``http.response.start`` exactly once, then ``http.response.body`` until ``more_body`` is
false). Framing and writing belong to the connection (HTTP/1.1 or HTTP/2), reached through the
small ``ResponseSink`` protocol, so both versions share these rules.
"""

from __future__ import annotations

import asyncio
import enum
from typing import Protocol

from ._types import Message, RawHeaders, Scope

_DISCONNECT: Message = {"type": "http.disconnect"}


class ResponseSink(Protocol):
    """What a connection offers a cycle for writing its response."""

    def write_head(self, cycle: HttpCycle, status: int, headers: RawHeaders) -> None: ...
    def write_body(self, cycle: HttpCycle, data: bytes, more: bool) -> None: ...
    def send_continue(self, cycle: HttpCycle) -> None: ...
    def body_drained(self, cycle: HttpCycle) -> None: ...
    async def wait_writable(self) -> None: ...
    @property
    def writing_paused(self) -> bool: ...


class ResponseState(enum.Enum):
    WAITING = "waiting"  # nothing sent yet
    STARTED = "started"  # head sent, body in progress
    COMPLETE = "complete"  # final body sent


class ProtocolError(RuntimeError, ValueError):
    """The application sent a message that is not valid at this point of the exchange.

    A ``ValueError`` too: upstream Daphne raised ``ValueError`` for invalid response messages.
    """


def validate_headers(headers: object) -> RawHeaders:
    """Check response headers are (bytes, bytes) pairs free of CR/LF (header injection)."""
    result = []
    for pair in headers or ():  # type: ignore[attr-defined]
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise ProtocolError(f"expected a [name, value] header pair, got {pair!r}") from None
        if type(name) is not bytes or type(value) is not bytes:
            # Upstream Daphne's wording, which applications' tests match on.
            if not isinstance(name, bytes):
                raise ProtocolError(
                    f"Header name '{name}' expected to be `bytes`, but got `{type(name)}`"
                )
            if not isinstance(value, bytes):
                raise ProtocolError(
                    f"Header value '{value}' expected to be `bytes`, but got `{type(value)}`"
                )
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name or b":" in name:
            raise ProtocolError(f"header {name!r} contains CR, LF or ':' where it must not")
        result.append(pair if type(pair) is tuple else (name, value))
    return result


class HttpCycle:
    """Request body in, response out, for one request."""

    __slots__ = (
        "_body",
        "_body_delivered",
        "_body_done",
        "_continue_pending",
        "_input_ended",
        "_waiter",
        "disconnected",
        "head_only",
        "keep_alive",
        "max_chunk",
        "response_bytes",
        "scope",
        "sink",
        "state",
        "status",
        "task",
    )

    def __init__(
        self,
        scope: Scope,
        sink: ResponseSink,
        *,
        expect_continue: bool,
        keep_alive: bool,
        max_chunk: int | None = None,
    ) -> None:
        self.scope = scope
        # The largest body an http.request message carries (the server's request_buffer_size).
        self.max_chunk = max_chunk
        self.sink = sink
        self.state = ResponseState.WAITING
        self.keep_alive = keep_alive
        self.head_only = scope["method"] == "HEAD"
        self.disconnected = False
        self.status = 0
        self.response_bytes = 0
        self.task: asyncio.Task[None] | None = None
        self._body: list[bytes] = []
        self._body_done = False
        self._body_delivered = False
        self._continue_pending = expect_continue
        self._input_ended = False
        self._waiter: asyncio.Future[None] | None = None

    # Called by the connection --------------------------------------------------------------

    def feed_body(self, data: bytes) -> None:
        limit = self.max_chunk
        if limit and len(data) > limit:
            # Split once here, so handing out message-sized pieces never copies a remainder.
            self._body.extend(data[start : start + limit] for start in range(0, len(data), limit))
        else:
            self._body.append(data)
        self._wake()

    def took_late_body(self, data: bytes, limit: int) -> bool:
        """Take body that arrives after the response completed; False before that.

        The connection reads on towards the next request, so such body is kept only for an
        application still running, up to ``limit`` bytes buffered; past that it hears
        ``http.disconnect`` after what it already has.
        """
        if self.state is not ResponseState.COMPLETE:
            return False
        if self._input_ended or self.task is None or self.task.done():
            return True
        if self.buffered_body() + len(data) > limit:
            self.input_ended()
        else:
            self.feed_body(data)
        return True

    def end_body(self) -> None:
        self._body_done = True
        self._continue_pending = False
        waiter = self._waiter  # (_wake, inline: once per request)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def buffered_body(self) -> int:
        return sum(map(len, self._body))

    def disconnect(self) -> None:
        self.disconnected = True
        self._wake()

    def input_ended(self) -> None:
        """The client sends nothing more (a half-close, or a full close not yet noticed):
        once the body is delivered, ``receive`` answers ``http.disconnect``, while a response
        is still written, since the client may well be reading."""
        self._input_ended = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # The application's side ----------------------------------------------------------------

    async def receive(self) -> Message:
        while True:
            # Body that arrived before the client left is delivered before http.disconnect:
            # the client sent it, and an app reading a split body must see all of it.
            if self._body or (self._body_done and not self._body_delivered):
                body = self._take_body()
                # Exactly one http.request carries more_body=False; later calls wait for the
                # client to leave or the response to complete.
                last = self._body_done and not self._body
                self._body_delivered = last
                self.sink.body_drained(self)
                return {"type": "http.request", "body": body, "more_body": not last}
            # After the response, a body still arriving is delivered to the end first.
            done = self.state is ResponseState.COMPLETE and self._body_delivered
            if done or self.disconnected or self._input_ended:
                return _DISCONNECT
            if self._continue_pending:
                self._continue_pending = False
                if self.state is ResponseState.WAITING:
                    self.sink.send_continue(self)
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            self._waiter = None

    def _take_body(self) -> bytes:
        """Everything buffered, or as many whole pieces as fit in ``max_chunk``."""
        chunks = self._body
        limit = self.max_chunk
        if not limit or len(chunks) == 1 or sum(map(len, chunks)) <= limit:
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            chunks.clear()
            return body
        size = count = 0
        for chunk in chunks:
            if count and size + len(chunk) > limit:
                break
            size += len(chunk)
            count += 1
        body = b"".join(chunks[:count])
        del chunks[:count]
        return body

    async def send(self, message: Message) -> None:
        kind = message.get("type")
        if self.disconnected:
            # The spec lets servers ignore sends after disconnect; raising would turn a client
            # leaving early into a logged application error.
            return
        state = self.state
        if kind == "http.response.body" and state is ResponseState.STARTED:
            body = message.get("body", b"")
            if type(body) is not bytes:
                if not isinstance(body, (bytes, bytearray, memoryview)):
                    raise ProtocolError(f"expected body as bytes, got {type(body).__name__}")
                body = bytes(body)
            more = bool(message.get("more_body", False))
            if not more:
                self.state = ResponseState.COMPLETE
                waiter = self._waiter
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
            self.response_bytes += len(body)
            self.sink.write_body(self, body, more)
            if more and self.sink.writing_paused:
                await self.sink.wait_writable()
        elif kind == "http.response.start" and state is ResponseState.WAITING:
            status = message.get("status")
            if not isinstance(status, int) or not 100 <= status <= 599:
                raise ProtocolError(f"expected an int status in 100..599, got {status!r}")
            headers = validate_headers(message.get("headers", ()))
            self.status = status
            self.state = ResponseState.STARTED
            self.sink.write_head(self, status, headers)
        else:
            raise ProtocolError(
                f"expected {self._expected()} in response state {self.state.value}, "
                f"got message type {kind!r}"
            )

    def _expected(self) -> str:
        if self.state is ResponseState.WAITING:
            return "'http.response.start'"
        if self.state is ResponseState.STARTED:
            return "'http.response.body'"
        return "no further messages"


__all__ = ["HttpCycle", "ProtocolError", "ResponseSink", "ResponseState", "validate_headers"]
