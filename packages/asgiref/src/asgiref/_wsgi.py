"""``WsgiToAsgi``: serve a WSGI application as an ASGI 3 application.

The WSGI application runs in a worker thread once the first ``http.request`` message has
arrived. Its ``wsgi.input`` streams the rest of the request body: each read that needs more
data waits for the next ``http.request`` message, so large uploads
are never held in memory whole. Response data is sent as the application produces it (the
worker waits for each ``send``, which gives back-pressure), and the response iterable's
``close()`` is always called, also when the client goes away or the application fails.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import CancelledError, Executor, Future
from types import TracebackType
from typing import Any

from ._sync_to_async import SyncToAsync
from ._wsgi_environ import (
    DEFAULT_DUPLICATE_HEADER_LIMIT,
    TooManyDuplicateHeaders,
    build_environ,
    encode_response_headers,
    parse_status,
)

__all__ = ["ClientDisconnected", "WsgiToAsgi", "WsgiToAsgiInstance"]

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


class ClientDisconnected(OSError):
    """Raised by ``wsgi.input`` reads when the client disconnected before sending the body."""


class _LoopBridge:
    """Runs coroutines on the request's loop from the worker thread, until aborted.

    Invariant: once :meth:`abort` ran, no call blocks: pending ones are cancelled and new
    ones fail at once, so a cancelled request never strands its worker thread.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()
        self._aborted = False

    def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        with self._lock:
            if self._aborted:
                coro.close()
                raise ClientDisconnected("the request was cancelled")
            future = asyncio.run_coroutine_threadsafe(coro, self._loop)
            self._pending.add(future)
        try:
            return future.result()
        except CancelledError:
            raise ClientDisconnected("the request was cancelled") from None
        finally:
            with self._lock:
                self._pending.discard(future)

    def abort(self) -> None:
        with self._lock:
            self._aborted = True
            pending, self._pending = self._pending, set()
        for future in pending:
            future.cancel()


class _RequestBody(io.RawIOBase):
    """Raw stream of the request body, pulled from ``receive`` on the event loop."""

    def __init__(self, receive: Callable[[], Any], bridge: _LoopBridge, first: Any) -> None:
        self._receive = receive
        self._bridge = bridge
        self._pending = b""
        self._finished = False
        self._accept(first)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._finished:
            self._fetch()
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def _fetch(self) -> None:
        self._accept(self._bridge.call(self._receive()))

    def _accept(self, message: Any) -> None:
        kind = message.get("type")
        if kind == "http.disconnect":
            self._finished = True
            raise ClientDisconnected("the client disconnected before the request body ended")
        if kind != "http.request":
            raise ValueError(f"expected an 'http.request' message, got {kind!r}")
        self._pending = bytes(message.get("body", b""))
        self._finished = not message.get("more_body", False)


def _not_started(message: Any) -> None:
    raise RuntimeError("WsgiToAsgiInstance.run_wsgi_app was called outside of __call__")


class WsgiToAsgi:
    """Wrap a WSGI application as an ASGI 3 application (``http`` scopes only).

    A request in which one header name repeats more than ``duplicate_header_limit`` times
    gets a 400 response without reaching the application (``None``: no limit).
    ``executor`` runs the WSGI calls (default: the event loop's default executor).
    """

    def __init__(
        self,
        wsgi_application: Any,
        duplicate_header_limit: int | None = DEFAULT_DUPLICATE_HEADER_LIMIT,
        *,
        executor: Executor | None = None,
    ) -> None:
        self.wsgi_application = wsgi_application
        self.duplicate_header_limit = duplicate_header_limit
        self.executor = executor

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        instance = WsgiToAsgiInstance(
            self.wsgi_application, self.duplicate_header_limit, executor=self.executor
        )
        await instance(scope, receive, send)


_BAD_REQUEST_BODY = b"Bad Request: Too many duplicate headers"


class WsgiToAsgiInstance:
    """One request served by a WSGI application."""

    def __init__(
        self,
        wsgi_application: Any,
        duplicate_header_limit: int | None = DEFAULT_DUPLICATE_HEADER_LIMIT,
        *,
        executor: Executor | None = None,
    ) -> None:
        self.wsgi_application = wsgi_application
        self.duplicate_header_limit = duplicate_header_limit
        self.executor = executor
        self.scope: Any = None
        self.response_started = False
        self._status: int | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._remaining: int | None = None
        self._send_message: Callable[[Any], None] = _not_started

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            raise ValueError(f"WsgiToAsgi expected an 'http' scope, got {scope.get('type')!r}")
        self.scope = scope
        # The application starts once the request has arrived (its first body message),
        # never before: the rest of the body streams in as the application reads it.
        first = await receive()
        if first.get("type") == "http.disconnect":
            return
        bridge = _LoopBridge(asyncio.get_running_loop())
        body = io.BufferedReader(_RequestBody(receive, bridge, first))
        try:
            environ = self.build_environ(scope, body)
        except TooManyDuplicateHeaders:
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [(b"content-type", b"text/plain")],
                }
            )
            await send({"type": "http.response.body", "body": _BAD_REQUEST_BODY})
            return

        def send_message(message: Any) -> None:
            bridge.call(send(message))

        self._send_message = send_message
        runner = SyncToAsync(self.run_wsgi_app, thread_sensitive=False, executor=self.executor)
        try:
            await runner(environ)
        except asyncio.CancelledError:
            bridge.abort()
            raise

    def build_environ(self, scope: Any, body: Any) -> dict[str, Any]:
        """The WSGI environ for ``scope`` with ``body`` as ``wsgi.input``.

        Raises :class:`ValueError` when a header repeats more than the instance's
        ``duplicate_header_limit`` allows.
        """
        return build_environ(scope, body, self.duplicate_header_limit)

    def run_wsgi_app(self, environ: dict[str, Any]) -> None:
        """Call the WSGI application (in a worker thread) and relay its response."""
        result: Iterable[bytes] = self.wsgi_application(environ, self.start_response)
        if not isinstance(result, Iterable):
            raise TypeError(
                "the WSGI application must return an iterable of bytes, "
                f"got {type(result).__name__}"
            )
        try:
            for chunk in result:
                self._write(chunk)
                if self._remaining == 0:
                    # Content-Length bytes are out: asking for more would only run code
                    # whose output is thrown away.
                    break
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self._start_if_needed()
        # The final message carries no keys besides its type, as in asgiref 3.x.
        self._send_message({"type": "http.response.body"})

    def start_response(
        self,
        status: str,
        response_headers: list[tuple[str, str]],
        exc_info: _ExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        """The WSGI ``start_response`` callable."""
        if exc_info is not None:
            try:
                if self.response_started:
                    # Too late to change the response: abort it with the original error.
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self._status is not None:
            raise RuntimeError("start_response was called twice without exc_info")
        self._status = parse_status(status)
        self._headers = encode_response_headers(response_headers)
        self._remaining = None
        for name, value in self._headers:
            if name == b"content-length":
                self._remaining = int(value)
        return self._write

    def _start_if_needed(self) -> None:
        if self.response_started:
            return
        if self._status is None:
            raise RuntimeError("the WSGI application did not call start_response")
        self.response_started = True
        self._send_message(
            {"type": "http.response.start", "status": self._status, "headers": self._headers}
        )

    def _write(self, data: bytes) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"WSGI response data must be bytes, got {type(data).__name__}")
        self._start_if_needed()
        if self._remaining is not None:
            # Never send more than the declared Content-Length (it would corrupt the stream).
            if self._remaining == 0 and data:
                return
            data = data[: self._remaining]
            self._remaining -= len(data)
        # Empty chunks are relayed too (3.x does): a WSGI app may yield b"" to flush headers.
        self._send_message({"type": "http.response.body", "body": bytes(data), "more_body": True})
