"""Type aliases for ASGI callables as channels uses them: asgiref's loose forms.

Consumers build and edit scopes and messages as plain mappings, so channels uses
``asgiref.typing``'s mapping forms (one definition for every package) under short names.
"""

from __future__ import annotations

from asgiref.typing import ApplicationCallable as ASGIApp
from asgiref.typing import MessageMapping as Message
from asgiref.typing import ReceiveCallable as Receive
from asgiref.typing import ScopeMapping as Scope
from asgiref.typing import SendCallable as Send

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send"]
