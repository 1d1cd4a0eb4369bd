"""Cookie parsing and Django sessions for connections."""

from ._sessions import CookieMiddleware, SessionMiddleware, SessionMiddlewareStack

__all__ = ["CookieMiddleware", "SessionMiddleware", "SessionMiddlewareStack"]
