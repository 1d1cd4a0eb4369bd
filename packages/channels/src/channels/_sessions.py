"""Cookie and session middleware.

Invariant: a session changed while the connection is being set up is saved
before the first ``http.response.start`` or ``websocket.accept`` leaves, and
the cookie that names it rides on that same message. Later changes (say,
after a WebSocket was accepted) are the consumer's to save.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.http import HttpResponse
from django.http.cookie import parse_cookie
from django.utils.http import http_date

from ._db import database_sync_to_async
from ._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CookieMiddleware", "SessionMiddleware", "SessionMiddlewareStack"]

_SETUP_MESSAGES = ("http.response.start", "websocket.accept")


def _cookie_header(build: Callable[[HttpResponse], None], key: str) -> tuple[bytes, bytes]:
    # Django's HttpResponse owns the cookie rules (expires, max-age, SameSite
    # validation); a throwaway response renders one Set-Cookie value.
    response = HttpResponse()
    build(response)
    value = response.cookies[key].output(header="").strip()
    return (b"set-cookie", value.encode("latin-1"))


class CookieMiddleware:
    """Parse the ``Cookie`` header into ``scope["cookies"]`` (a dict)."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "headers" not in scope:
            raise ValueError(
                f"CookieMiddleware needs a scope with 'headers' (HTTP or WebSocket), got "
                f"scope type {scope.get('type')!r}"
            )
        cookies: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name.lower() == b"cookie":
                cookies.update(parse_cookie(value.decode("latin-1")))
        await self.inner(dict(scope, cookies=cookies), receive, send)

    @classmethod
    def set_cookie(
        cls,
        message: Message,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: Any = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Any = "lax",
    ) -> None:
        """Add a ``Set-Cookie`` header to an ``http.response.start`` or accept message."""
        header = _cookie_header(
            lambda response: response.set_cookie(
                key,
                value,
                max_age=max_age,
                expires=expires,
                path=path,
                domain=domain,
                secure=secure,
                httponly=httponly,
                samesite=samesite,
            ),
            key,
        )
        message["headers"] = [*message.get("headers", []), header]

    @classmethod
    def delete_cookie(
        cls, message: Message, key: str, path: str = "/", domain: str | None = None
    ) -> None:
        """Add a ``Set-Cookie`` header that expires *key*."""
        header = _cookie_header(
            lambda response: response.delete_cookie(key, path=path, domain=domain), key
        )
        message["headers"] = [*message.get("headers", []), header]


def _session_store() -> type[SessionBase]:
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store


def _persist(session: SessionBase, message: Message, had_cookie: bool) -> None:
    """Django's SessionMiddleware.process_response rules, applied to one ASGI message."""
    name = settings.SESSION_COOKIE_NAME
    if session.is_empty():
        if had_cookie:
            CookieMiddleware.delete_cookie(
                message,
                name,
                path=settings.SESSION_COOKIE_PATH,
                domain=settings.SESSION_COOKIE_DOMAIN,
            )
        return
    if not (session.modified or settings.SESSION_SAVE_EVERY_REQUEST):
        return
    if message.get("status", 200) >= 500:
        return
    max_age: int | None = None
    expires: str | None = None
    if not session.get_expire_at_browser_close():
        max_age = session.get_expiry_age()
        expires = http_date(time.time() + max_age)
    try:
        session.save()
    except UpdateError:
        raise SessionInterrupted(
            "The session was deleted before the connection finished setting up; the user "
            "may have logged out in a concurrent request."
        ) from None
    CookieMiddleware.set_cookie(
        message,
        name,
        session.session_key or "",
        max_age=max_age,
        expires=expires,
        domain=settings.SESSION_COOKIE_DOMAIN,
        path=settings.SESSION_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=settings.SESSION_COOKIE_HTTPONLY,
        samesite=settings.SESSION_COOKIE_SAMESITE,
    )


class SessionMiddleware:
    """Put a Django session in ``scope["session"]``; needs ``CookieMiddleware`` outside it."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "cookies" not in scope:
            raise ValueError(
                "SessionMiddleware needs scope['cookies']: wrap it in CookieMiddleware "
                "(SessionMiddlewareStack does both)"
            )
        had_cookie = settings.SESSION_COOKIE_NAME in scope["cookies"]
        session = _session_store()(scope["cookies"].get(settings.SESSION_COOKIE_NAME))
        scope = dict(scope, session=session)
        persist = database_sync_to_async(_persist)
        pending = True

        async def send_with_session(message: Message) -> None:
            nonlocal pending
            if pending and message["type"] in _SETUP_MESSAGES:
                pending = False
                message = dict(message)
                await persist(session, message, had_cookie)
            await send(message)

        await self.inner(scope, receive, send_with_session)


def SessionMiddlewareStack(inner: ASGIApp) -> ASGIApp:
    """Cookie parsing plus sessions, in the right order."""
    return CookieMiddleware(SessionMiddleware(inner))
