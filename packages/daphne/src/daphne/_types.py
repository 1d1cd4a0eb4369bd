"""Shared type aliases for ASGI messages and callables inside daphne."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Application = Callable[[Scope, Receive, Send], Awaitable[None]]
Address = tuple[str, int]
RawHeaders = list[tuple[bytes, bytes]]

__all__ = ["Address", "Application", "Message", "RawHeaders", "Receive", "Scope", "Send"]
