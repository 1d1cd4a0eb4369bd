"""Authenticated test connections: a real session row and its cookie.

The user is logged in through Django's own ``login`` (as the test Client's
``force_login`` does), so AuthMiddleware resolves the user exactly as it
would for a browser.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from importlib import import_module
from typing import Any

from .._db import database_sync_to_async
from .._types import ASGIApp, Receive, Scope, Send

__all__ = ["LoginGate", "session_cookie_for"]


def session_cookie_for(user: Any, backend: str | None = None) -> tuple[str, str]:
    """Save a session in which *user* is logged in; return (cookie name, session key)."""
    from django.conf import settings
    from django.contrib.auth import login

    from .._auth import _ScopeRequest

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    request = _ScopeRequest({"session": store})
    login(request, user, backend or settings.AUTHENTICATION_BACKENDS[0])  # type: ignore[arg-type]
    store.save()
    return settings.SESSION_COOKIE_NAME, str(store.session_key)


def _with_cookie(
    headers: Sequence[tuple[bytes, bytes]], name: str, value: str
) -> list[tuple[bytes, bytes]]:
    pair = f"{name}={value}".encode("latin-1")
    result: list[tuple[bytes, bytes]] = []
    merged = False
    for header, header_value in headers:
        if header.lower() == b"cookie" and not merged:
            header_value = header_value + b"; " + pair
            merged = True
        result.append((header, header_value))
    if not merged:
        result.append((b"cookie", pair))
    return result


class LoginGate:
    """Holds the application back until the test user's session exists.

    The application task starts as soon as the communicator is created; the
    gate keeps it from reading the scope before the cookie is in place.
    """

    def __init__(self, application: ASGIApp, scope: Scope, user: Any) -> None:
        self.application = application
        self.scope = scope
        self.user = user
        self._open = asyncio.Event()
        if user is None:
            self._open.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        await self._open.wait()
        return await self.application(scope, receive, send)

    async def open(self) -> None:
        if self._open.is_set():
            return
        name, key = await database_sync_to_async(session_cookie_for)(self.user)
        self.scope["headers"] = _with_cookie(self.scope.get("headers", []), name, key)
        self._open.set()
