"""Communicators: drive one consumer (or a whole router) from a test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from asgiref.testing import ApplicationCommunicator

from .._types import ASGIApp
from ._login import LoginGate

__all__ = ["HttpCommunicator", "WebsocketCommunicator"]

HeaderPairs = Iterable[tuple[bytes, bytes]]


def _base_scope(kind: str, path: str, headers: HeaderPairs | None) -> dict[str, Any]:
    if not isinstance(path, str):
        raise TypeError(f"path must be a str such as '/ws/chat/?a=1', got {type(path).__name__}")
    parsed = urlsplit(path)
    return {
        "type": kind,
        "path": unquote(parsed.path),
        "raw_path": parsed.path.encode("latin-1", "replace"),
        "query_string": parsed.query.encode("utf-8"),
        "root_path": "",
        "headers": [(bytes(name), bytes(value)) for name, value in headers or []],
        "client": ("127.0.0.1", 0),
        "server": ("testserver", 80),
    }


class _FailFastCommunicator(ApplicationCommunicator):
    """Surfaces an application crash at once instead of after the receive timeout.

    Also opens the login gate (see ``user=``) before the first input reaches
    the application, whichever method sends it.

    Invariant: no output message is ever lost. ``receive_output`` waits in
    the caller's task; when the caller is cancelled (``asyncio.wait_for``
    around it), the read it started is cancelled too, and a message that read
    had already taken is kept for the next call.
    """

    _gate: LoginGate
    _taken: list[Any]

    async def send_input(self, message: Any) -> None:
        await self._gate.open()
        await super().send_input(message)

    def _kept(self) -> list[Any]:
        # Set lazily: the base class's __init__ starts the application first.
        if not hasattr(self, "_taken"):
            self._taken = []
        return self._taken

    async def receive_output(self, timeout: float = 1) -> Any:
        kept = self._kept()
        if kept:
            return kept.pop(0)
        if self.future.done() and not self.future.cancelled():
            self.future.result()  # a crash is reported first, as upstream's communicator does
        if not self.output_queue.empty():
            return self.output_queue.get_nowait()
        if not self.future.done():
            getter = asyncio.ensure_future(self.output_queue.get())
            try:
                await asyncio.wait(
                    {getter, self.future}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                if not getter.done():
                    # A pending get leaves its message in the queue when cancelled.
                    getter.cancel()
                elif not getter.cancelled():
                    # Taken just as we were cancelled: keep it for the next call.
                    kept.append(getter.result())
            if kept:
                return kept.pop(0)
        if self.future.done():
            if not self.future.cancelled():
                self.future.result()  # the application's crash, at once
            raise asyncio.TimeoutError("the application finished without sending anything")
        self.future.cancel()
        await asyncio.wait({self.future})
        raise asyncio.TimeoutError(f"the application sent nothing within {timeout} s")

    async def receive_nothing(self, timeout: float = 0.1, interval: float = 0.01) -> bool:
        if self._kept():
            return False
        result: bool = await super().receive_nothing(timeout, interval)
        return result


class WebsocketCommunicator(_FailFastCommunicator):
    """Test a WebSocket application: connect, exchange frames, disconnect.

    ``user=`` logs that user in through a real session (needs the database),
    so ``AuthMiddlewareStack`` sees an authenticated connection.
    """

    def __init__(
        self,
        application: ASGIApp,
        path: str,
        headers: HeaderPairs | None = None,
        subprotocols: Iterable[str] | None = None,
        spec_version: str | None = None,
        *,
        user: Any = None,
    ) -> None:
        scope = _base_scope("websocket", path, headers)
        scope["scheme"] = "ws"
        scope["subprotocols"] = list(subprotocols or [])
        if spec_version is not None:
            scope["spec_version"] = spec_version
        self._gate = LoginGate(application, scope, user)
        super().__init__(self._gate, scope)
        self.response_headers: list[tuple[bytes, bytes]] | None = None

    async def connect(self, timeout: float = 1) -> tuple[bool, Any]:
        """Return ``(True, subprotocol)`` if accepted, ``(False, close_code)`` if refused."""
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        if response["type"] == "websocket.send":
            # A send before any accept accepts the socket implicitly, as servers
            # do; the frame itself is kept for receive_from().
            self._kept().insert(0, response)
            self.response_headers = []
            return True, None
        if response["type"] != "websocket.accept":
            raise AssertionError(
                f"Expected 'websocket.accept' or 'websocket.close', got {response['type']!r}"
            )
        self.response_headers = list(response.get("headers", []))
        return True, response.get("subprotocol")

    async def send_to(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Send one frame (exactly one of text or bytes) to the application."""
        if (text_data is None) == (bytes_data is None):
            raise ValueError("send_to() needs exactly one of text_data or bytes_data")
        if text_data is not None:
            if not isinstance(text_data, str):
                raise TypeError(f"text_data must be str, got {type(text_data).__name__}")
            await self.send_input({"type": "websocket.receive", "text": text_data})
        else:
            if not isinstance(bytes_data, bytes):
                raise TypeError(f"bytes_data must be bytes, got {type(bytes_data).__name__}")
            await self.send_input({"type": "websocket.receive", "bytes": bytes_data})

    async def send_json_to(self, data: Any) -> None:
        """Send *data* encoded as a JSON text frame."""
        await self.send_to(text_data=json.dumps(data))

    async def receive_from(self, timeout: float = 1) -> str | bytes:
        """Return the next frame the application sent (text or bytes)."""
        response = await self.receive_output(timeout)
        if response["type"] != "websocket.send":
            raise AssertionError(f"Expected 'websocket.send', got {response!r}")
        if response.get("text") is not None:
            return str(response["text"])
        return bytes(response["bytes"])

    async def receive_json_from(self, timeout: float = 1) -> Any:
        """Wait up to *timeout* seconds for a text frame and return it decoded as JSON."""
        payload = await self.receive_from(timeout)
        if not isinstance(payload, str):
            raise AssertionError(f"Expected a text frame holding JSON, got bytes {payload!r}")
        return json.loads(payload)

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        """Close from the client side and wait for the application to finish."""
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


class HttpCommunicator(_FailFastCommunicator):
    """Test an HTTP application with one request; ``get_response()`` returns the result."""

    def __init__(
        self,
        application: ASGIApp,
        method: str,
        path: str,
        body: bytes = b"",
        headers: HeaderPairs | None = None,
        *,
        user: Any = None,
    ) -> None:
        if not isinstance(body, bytes):
            raise TypeError(f"body must be bytes, got {type(body).__name__}")
        scope = _base_scope("http", path, headers)
        scope.update({"method": method.upper(), "http_version": "1.1", "scheme": "http"})
        self.body = body
        self._gate = LoginGate(application, scope, user)
        super().__init__(self._gate, scope)
        self.sent_request = False

    async def get_response(self, timeout: float = 1) -> dict[str, Any]:
        """Send the request and return ``{"status", "headers", "body"}``."""
        if not self.sent_request:
            self.sent_request = True
            await self.send_input({"type": "http.request", "body": self.body})
        start = await self.receive_output(timeout)
        if start["type"] != "http.response.start":
            raise AssertionError(f"Expected 'http.response.start', got {start!r}")
        body = b""
        while True:
            chunk = await self.receive_output(timeout)
            if chunk["type"] != "http.response.body":
                raise AssertionError(f"Expected 'http.response.body', got {chunk!r}")
            body += chunk.get("body", b"")
            if not chunk.get("more_body", False):
                break
        return {"status": start["status"], "headers": list(start.get("headers", [])), "body": body}
