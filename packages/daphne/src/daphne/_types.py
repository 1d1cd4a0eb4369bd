"""Type aliases for ASGI messages and callables inside daphne: asgiref's loose forms.

Scopes and messages are built and edited here as plain mutable mappings, so daphne uses
``asgiref.typing``'s mapping forms (one definition for every package), under short names.
"""

from __future__ import annotations

from asgiref.typing import ApplicationCallable as Application
from asgiref.typing import MessageMapping as Message
from asgiref.typing import ReceiveCallable as Receive
from asgiref.typing import ScopeMapping as Scope
from asgiref.typing import SendCallable as Send

Address = tuple[str, int]
RawHeaders = list[tuple[bytes, bytes]]

__all__ = ["Address", "Application", "Message", "RawHeaders", "Receive", "Scope", "Send"]
