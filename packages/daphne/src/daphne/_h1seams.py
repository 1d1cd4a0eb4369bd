"""The seams of the HTTP/1.1 state machine (``_h1state``): what it asks of its connection,
what it reads of the server, the deadline it moves, and the upgrade it hands over.

``_connection.Connection`` implements ``Http1Actions``; ``_serving.Serving`` satisfies
``Http1Server``; ``_deadline.Deadline`` is a ``HeadDeadline``. No IO here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ._config import ServerConfig
from ._h2c import h2_available, wants_h2c
from ._httpcycle import HttpCycle
from ._parser import RequestParser
from ._request import is_websocket_upgrade
from ._types import RawHeaders, Scope
from ._wire import DateHeader


@dataclass(frozen=True, slots=True)
class UpgradeRequest:
    """An upgrade request the server speaks: what the successor protocol starts from."""

    kind: str  # "websocket" or "h2c" (``upgrade_kind``)
    method: bytes
    target: bytes
    headers: RawHeaders
    http_version: str


class Http1Actions(Protocol):
    """What the state machine asks of the connection that owns the socket."""

    @property
    def writing_paused(self) -> bool:
        """Whether the transport's write buffer is full."""
        ...

    def write(self, data: bytes) -> None: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def close(self) -> None:
        """Close once what was written has been sent."""

    def abort(self) -> None:
        """Close now, discarding unsent bytes: half a response is on the wire."""

    def run(self, cycle: HttpCycle) -> None:
        """Start the application instance of *cycle* (and its ``http_timeout``)."""

    def finished(self, cycle: HttpCycle) -> None:
        """*cycle*'s response is complete (or was answered by the server): log it."""

    def reap(self, cycle: HttpCycle) -> None:
        """*cycle*'s client is gone: give its instance its grace period."""

    def app_error(self, scope: Scope, exc: BaseException | None) -> None: ...
    def upgrade(self, request: UpgradeRequest, rest: bytes) -> None:
        """Hand the connection to ``request.kind``; *rest* is what followed the head."""

    async def wait_writable(self) -> None: ...


def upgrade_kind(config: ServerConfig, headers: RawHeaders, secure: bool) -> str | None:
    """The protocol an upgrade request (``Connection: upgrade`` seen) switches to, if any.

    Anything else is answered as plain HTTP/1.1, as an upgrade the server does not speak;
    so is ``Upgrade: h2c`` over TLS, where HTTP/2 is chosen with ALPN (RFC 7540 3.3).
    """
    if is_websocket_upgrade(headers):
        return "websocket"
    if config.h2c == "upgrade" and not secure and wants_h2c(headers) and h2_available():
        return "h2c"
    return None


class _ReleasedParser:
    """Stands in for the parser once the connection is gone (the parser pointed back here)."""

    def feed_data(self, data: bytes) -> None:
        pass

    def get_method(self) -> bytes:
        return b""

    def get_http_version(self) -> str:
        return "1.1"

    def should_upgrade(self) -> bool:
        return False


RELEASED_PARSER: RequestParser = _ReleasedParser()


class HeadDeadline(Protocol):
    """The connection's head deadline (``_deadline.Deadline``): set and cleared per request,
    so the state machine moves it itself (one call each, on the hot path)."""

    def set(self, timeout: float) -> None: ...
    def clear(self) -> None: ...


class Http1Server(Protocol):
    """What the state machine reads of the server (``_context.ServerContext`` has it)."""

    config: ServerConfig
    accepting: bool  # False once the server shuts down: every response then closes
    lifespan_state: dict[str, Any] | None
    date: DateHeader


__all__ = [
    "RELEASED_PARSER",
    "HeadDeadline",
    "Http1Actions",
    "Http1Server",
    "UpgradeRequest",
    "upgrade_kind",
]
