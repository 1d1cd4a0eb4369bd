"""``Local``: attribute storage scoped to the current context (or thread).

Default mode stores a mapping in a :class:`contextvars.ContextVar`. Because ``sync_to_async``
and ``async_to_sync`` carry context changes back to their caller, a value set on one side of
the boundary is visible on the other, exactly like a thread-local in purely sync code.

Invariant: the stored mapping is never mutated in place; each write installs a new mapping.
Two tasks that inherited the same mapping therefore never see each other's writes (a
mutation in place would leak a child task's writes into its parent and siblings).

``thread_critical=True`` uses a plain :class:`threading.local` instead: values are per
thread, so in async code they are shared by everything on that thread's event loop, and
never cross a thread boundary. Use it for objects that are unsafe to share between threads
(database connections).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["Local"]

_EMPTY: Mapping[str, Any] = {}


class Local:
    """Attribute storage local to the current context (default) or thread (``thread_critical``)."""

    def __init__(self, thread_critical: bool = False) -> None:
        object.__setattr__(self, "_thread_critical", thread_critical)
        if thread_critical:
            object.__setattr__(self, "_thread_storage", threading.local())
        else:
            var: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
                f"asgiref.local.Local@{id(self):x}"
            )
            object.__setattr__(self, "_var", var)

    def __getattr__(self, key: str) -> Any:
        if self._thread_critical:
            return getattr(self._thread_storage, key)
        try:
            return self._var.get(_EMPTY)[key]
        except KeyError:
            raise AttributeError(f"{self!r} object has no attribute {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        if key in ("_thread_critical", "_thread_storage", "_var"):
            raise AttributeError(f"{key!r} is reserved by asgiref.local.Local")
        if self._thread_critical:
            setattr(self._thread_storage, key, value)
            return
        current = self._var.get(_EMPTY)
        self._var.set({**current, key: value})

    def __delattr__(self, key: str) -> None:
        if self._thread_critical:
            delattr(self._thread_storage, key)
            return
        current = self._var.get(_EMPTY)
        if key not in current:
            raise AttributeError(f"{self!r} object has no attribute {key!r}")
        self._var.set({k: v for k, v in current.items() if k != key})

    def __repr__(self) -> str:
        mode = "thread_critical" if self._thread_critical else "context"
        return f"<asgiref.local.Local {mode} at {id(self):#x}>"
