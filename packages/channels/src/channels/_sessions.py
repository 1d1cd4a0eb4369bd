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

__all__ = [
    "CookieMiddleware",
    "InstanceSessionWrapper",
    "SessionMiddleware",
    "SessionMiddlewareStack",
]

_SETUP_MESSAGES = ("http.response.start", "websocket.accept")


class InvalidSameSite(ValueError, AssertionError):
    """A ``samesite`` value other than strict, lax or none.

    Both a ``ValueError`` (what Django raises) and an ``AssertionError`` (what
    upstream Channels raised, and what its users' tests expect).
    """


def _check_samesite(samesite: Any) -> None:
    if samesite is not None and str(samesite).lower() not in ("strict", "lax", "none"):
        raise InvalidSameSite(
            f"samesite must be either 'strict', 'lax' or 'none', got {samesite!r}"
        )


def _cookie_header(build: Callable[[HttpResponse], None], key: str) -> tuple[bytes, bytes]:
    # Django's HttpResponse owns the cookie rules (expires, max-age, SameSite
    # validation); a throwaway response renders one Set-Cookie value.
    response = HttpResponse()
    build(response)
    value = response.cookies[key].output(header="").strip()
    return (b"Set-Cookie", value.encode("latin-1"))


class CookieMiddleware:
    """Parse the ``Cookie`` header into ``scope["cookies"]`` (a dict)."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if "headers" not in scope:
            raise ValueError(
                f"CookieMiddleware was passed a scope that did not have a headers key "
                f"(make sure it is only passed HTTP or WebSocket connections); got scope "
                f"type {scope.get('type')!r}"
            )
        cookies: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name.lower() == b"cookie":
                cookies.update(parse_cookie(value.decode("latin-1")))
        return await self.inner(dict(scope, cookies=cookies), receive, send)

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
        _check_samesite(samesite)
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


class InstanceSessionWrapper:
    """One connection's session: found from its cookie, saved before the first response.

    Upstream's name and shape (``scope``, ``activated``, ``resolve_session()``,
    ``send()``). A scope that already has a session (an outer
    ``SessionMiddleware``) is passed through untouched: the outer one saves it.
    """

    #: Messages before which a changed session is saved, with its cookie riding on them.
    save_message_types: tuple[str, ...] = _SETUP_MESSAGES

    def __init__(self, scope: Scope, send: Send) -> None:
        self.cookie_name: str = settings.SESSION_COOKIE_NAME
        self.session_store = _session_store()
        self.scope: dict[str, Any] = dict(scope)
        self.real_send = send
        self.activated = "session" not in self.scope
        if self.activated and "cookies" not in self.scope:
            raise ValueError(
                "No cookies in scope - SessionMiddleware needs to run inside of "
                "CookieMiddleware (SessionMiddlewareStack does both)."
            )
        self._pending = self.activated

    async def resolve_session(self) -> None:
        """Load the session the cookie names (or a new, empty one) into the scope."""
        if self.activated:
            self.scope["session"] = self.session_store(self.scope["cookies"].get(self.cookie_name))

    async def send(self, message: Message) -> Any:
        """The application's ``send``: saves the session before the first response."""
        if self._pending and message["type"] in self.save_message_types:
            self._pending = False
            message = dict(message)
            had_cookie = self.cookie_name in self.scope["cookies"]
            await database_sync_to_async(_persist)(self.scope["session"], message, had_cookie)
        return await self.real_send(message)

    async def save_session(self) -> None:
        """Save the session now (for changes made after the connection was set up)."""
        session: SessionBase = self.scope["session"]
        await database_sync_to_async(session.save)()


class SessionMiddleware:
    """Put a Django session in ``scope["session"]``; needs ``CookieMiddleware`` outside it."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        return await self.inner(wrapper.scope, receive, wrapper.send)


def SessionMiddlewareStack(inner: ASGIApp) -> ASGIApp:
    """Cookie parsing plus sessions, in the right order."""
    return CookieMiddleware(SessionMiddleware(inner))
