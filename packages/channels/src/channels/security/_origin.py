"""Origin checks for WebSocket (and HTTP) connections.

Pattern rules (pure, see :func:`origin_allowed`):

* ``"*"`` allows every origin, including a missing one.
* ``"example.com"`` allows exactly that host, any scheme and port.
* ``".example.com"`` allows ``example.com`` and every subdomain of it.
* ``"https://example.com"`` also pins the scheme; ``"example.com:8443"`` the
  port (default ports count: ``https://example.com`` is port 443).

A refused WebSocket is closed before it is accepted (the server answers the
handshake with 403); a refused HTTP request gets a 403 response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from .._types import ASGIApp, Receive, Scope, Send

__all__ = [
    "AllowedHostsOriginValidator",
    "OriginPattern",
    "OriginValidator",
    "WebsocketDenier",
    "origin_allowed",
    "parse_origin",
]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True)
class OriginPattern:
    host: str
    subdomains: bool
    scheme: str | None
    port: int | None

    @classmethod
    def parse(cls, pattern: str) -> OriginPattern:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"Allowed origin must be a non-empty str, got {pattern!r}")
        text = pattern.lower()
        scheme = None
        if "://" in text:
            scheme, text = text.split("://", 1)
        subdomains = text.startswith(".")
        parsed = urlsplit("//" + text.lstrip("."))
        try:
            port = parsed.port
        except ValueError:
            raise ValueError(f"Allowed origin {pattern!r} has an invalid port") from None
        host = parsed.hostname or ""
        if port is None and scheme in _DEFAULT_PORTS:
            port = _DEFAULT_PORTS[scheme]
        return cls(host=host, subdomains=subdomains, scheme=scheme, port=port)

    def matches(self, origin: SplitResult) -> bool:
        host = (origin.hostname or "").lower()
        if self.subdomains:
            if host != self.host and not host.endswith("." + self.host):
                return False
        elif host != self.host:
            return False
        if self.scheme is not None and origin.scheme.lower() != self.scheme:
            return False
        if self.port is not None:
            return _port_of(origin) == self.port
        return True


def _port_of(origin: SplitResult) -> int | None:
    try:
        port = origin.port
    except ValueError:
        return None
    return port if port is not None else _DEFAULT_PORTS.get(origin.scheme.lower())


def parse_origin(value: bytes | None) -> SplitResult | None:
    """Parse an ``Origin`` header value; ``None`` for missing, opaque or malformed."""
    if value is None:
        return None
    try:
        text = value.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if not text or text == "null":
        return None
    try:
        parsed = urlsplit(text)
        parsed.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    return parsed if parsed.scheme and parsed.hostname else None


def origin_allowed(origin: SplitResult | None, allowed: Iterable[str]) -> bool:
    """Return whether *origin* (parsed, or None if absent) matches an allowed pattern."""
    patterns = list(allowed)
    if "*" in patterns:
        return True
    if origin is None:
        return False
    return any(OriginPattern.parse(pattern).matches(origin) for pattern in patterns)


def _origin_header(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"origin":
            return bytes(value)
    return None


class WebsocketDenier:
    """ASGI app that refuses a WebSocket before accepting it (or 403s HTTP)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 403, "headers": []})
            await send({"type": "http.response.body", "body": b"Forbidden origin"})
            return
        while True:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008})
            elif message["type"] == "websocket.disconnect":
                return


class OriginValidator:
    """Let through only connections whose ``Origin`` header matches *allowed_origins*."""

    def __init__(self, application: ASGIApp, allowed_origins: Sequence[str]) -> None:
        if isinstance(allowed_origins, str):
            raise TypeError(
                f"allowed_origins must be a list of patterns, got the str {allowed_origins!r}"
            )
        for pattern in allowed_origins:
            if pattern != "*":
                OriginPattern.parse(pattern)
        self.application = application
        self._allowed: Callable[[], Sequence[str]] = lambda: allowed_origins

    @property
    def allowed_origins(self) -> Sequence[str]:
        """The origin patterns connections are checked against, read on each access.

        The list given to the constructor; for ``AllowedHostsOriginValidator`` the current
        ``settings.ALLOWED_HOSTS`` (in DEBUG with it empty, the local hosts Django allows).
        """
        return self._allowed()

    def valid_origin(self, origin: SplitResult | None) -> bool:
        """Whether the parsed *origin* (None when absent) matches ``allowed_origins``."""
        return origin_allowed(origin, self.allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] not in ("http", "websocket"):
            raise ValueError(
                f"OriginValidator guards 'http' and 'websocket' scopes, got {scope['type']!r}"
            )
        if self.valid_origin(parse_origin(_origin_header(scope))):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


def _allowed_hosts() -> list[str]:
    from django.conf import settings

    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        # Mirrors Django's own DEBUG default for ALLOWED_HOSTS.
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


class AllowedHostsOriginValidator(OriginValidator):
    """OriginValidator that follows ``settings.ALLOWED_HOSTS`` (read per connection)."""

    def __init__(self, application: ASGIApp) -> None:
        self.application = application
        self._allowed = _allowed_hosts
