"""Cookie parsing and Django sessions for connections."""

from ._sessions import (
    CookieMiddleware,
    InstanceSessionWrapper,
    SessionMiddleware,
    SessionMiddlewareStack,
)

__all__ = [
    "CookieMiddleware",
    "InstanceSessionWrapper",
    "SessionMiddleware",
    "SessionMiddlewareStack",
]
