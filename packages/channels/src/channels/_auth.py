"""Authentication for connections: ``scope["user"]`` and login/logout.

The work is delegated to Django's own ``get_user``/``login``/``logout`` (or
their async twins ``aget_user``/``alogin``/``alogout`` on Django 5+), given a
small request stand-in that carries the scope's session. Signal receivers of
``user_logged_in``/``user_logged_out`` therefore get that stand-in as
``request``: it has ``session``, ``user``, ``META`` (empty) and ``scope``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import django.contrib.auth as django_auth
from django.contrib.sessions.backends.base import SessionBase
from django.utils.functional import LazyObject

from ._db import database_sync_to_async
from ._middleware import BaseMiddleware
from ._sessions import SessionMiddlewareStack
from ._types import ASGIApp, Receive, Scope, Send

__all__ = [
    "AuthMiddleware",
    "AuthMiddlewareStack",
    "UserLazyObject",
    "get_user",
    "login",
    "logout",
]


def _anonymous() -> Any:
    # Imported on use: importing channels.auth must not need the auth app's models.
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


class _ScopeRequest:
    """The parts of HttpRequest that django.contrib.auth touches."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.session = scope["session"]
        self.user: Any = scope["user"] if "user" in scope else _anonymous()
        self.META: dict[str, Any] = {}

    async def auser(self) -> Any:
        """Django 5's ``alogout`` asks the request for its user this way."""
        return self.user


def _require_session(scope: Scope, action: str) -> None:
    # The first sentence is upstream's, which tests match on.
    if "session" not in scope:
        raise ValueError(
            f"Cannot find session in scope. You should wrap your consumer in "
            f"SessionMiddleware (AuthMiddlewareStack does); needed to {action}."
        )


def _auth_call(async_name: str, sync_func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    # Django 5.0 added aget_user/alogin/alogout; older versions get the sync
    # function in the thread-sensitive executor.
    async_func = getattr(django_auth, async_name, None)
    if async_func is not None:
        return async_func  # type: ignore[no-any-return]
    return database_sync_to_async(sync_func)


async def get_user(scope: Scope) -> Any:
    """Return the user the scope's session belongs to, or ``AnonymousUser``."""
    _require_session(scope, "get the user")
    fetch = _auth_call("aget_user", django_auth.get_user)
    return await fetch(_ScopeRequest(scope))


async def login(scope: Scope, user: Any, backend: str | None = None) -> None:
    """Log *user* in: rotate the session key and remember the user in it.

    The session is not saved here: call ``scope["session"].save()`` (or
    ``asave``) when the connection is already accepted.
    """
    _require_session(scope, "log in")
    if user is None:
        user = scope.get("user")
    if user is None:
        raise ValueError("User must be passed as an argument or must be present in the scope.")
    request = _ScopeRequest(scope)
    do_login = _auth_call("alogin", django_auth.login)
    await do_login(request, user, backend)
    scope["user"] = request.user


async def logout(scope: Scope) -> None:
    """Flush the session and make ``scope["user"]`` anonymous.

    As upstream's: ``user_logged_out`` is sent only when ``scope["user"]`` is
    an authenticated user; logging out nobody just flushes the session.
    """
    _require_session(scope, "log out")
    if getattr(scope.get("user"), "is_authenticated", False):
        do_logout = _auth_call("alogout", django_auth.logout)
        await do_logout(_ScopeRequest(scope))
    else:
        await _flush(scope["session"])
    if "user" in scope:
        scope["user"] = _anonymous()


async def _flush(session: SessionBase) -> None:
    aflush = getattr(session, "aflush", None)  # Django 5.0+
    if aflush is not None:
        await aflush()
    else:
        await database_sync_to_async(session.flush)()


class UserLazyObject(LazyObject):  # type: ignore[type-arg]
    """Placeholder for ``scope["user"]`` until the middleware has resolved it."""

    def _setup(self) -> None:
        raise ValueError(
            "Accessing scope user before it is ready: AuthMiddleware has not resolved it yet."
        )


class AuthMiddleware(BaseMiddleware):
    """Put the session's user into ``scope["user"]``; needs SessionMiddleware outside.

    Upstream's two steps are kept as overridable methods (token-auth middleware
    in the wild subclasses this and overrides ``resolve_scope``).
    """

    def populate_scope(self, scope: dict[str, Any]) -> None:
        """Check the session is there and put a placeholder user in the scope."""
        if "session" not in scope:
            raise ValueError(
                "AuthMiddleware cannot find session in scope. SessionMiddleware must be above it."
            )
        if "user" not in scope:
            scope["user"] = UserLazyObject()

    async def resolve_scope(self, scope: dict[str, Any]) -> None:
        """Resolve the placeholder to the session's user (or ``AnonymousUser``).

        A user that an outer layer already put in the scope (a test's
        ``communicator.scope["user"] = user``) is kept, as upstream keeps it.
        """
        user = scope["user"]
        if isinstance(user, LazyObject):
            user._wrapped = await get_user(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        scope = dict(scope)
        self.populate_scope(scope)
        await self.resolve_scope(scope)
        return await self.inner(scope, receive, send)


def AuthMiddlewareStack(inner: ASGIApp) -> ASGIApp:
    """Cookies, sessions and authentication, in the right order."""
    return SessionMiddlewareStack(AuthMiddleware(inner))
