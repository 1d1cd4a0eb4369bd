"""The values that ``asgiref.local.Local`` keeps in context variables.

A context is copied into every thread asgiref hands work to, and Python 3.14 can copy it
into *any* new thread (``sys.flags.thread_inherit_context``, on by default in free-threaded
builds). A ``Local`` must still behave like a thread-local in plain threads, so its data is
tagged with the thread that owns it and is invisible elsewhere.

Invariants:

* :class:`Storage` is immutable in practice: a write installs a new object, so two tasks
  that inherited the same storage never see each other's writes.
* Only asgiref's own hand-overs (``sync_to_async``, ``async_to_sync`` and copying a callee's
  changes back) :func:`rehome` storage to the receiving thread; a context merely inherited
  by an unrelated thread keeps the old owner and so stays hidden.
* :class:`ThreadBoundStorage` (thread-critical locals in async code) belongs to one thread
  for good: it is never rehomed and never copied back to a caller.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["EMPTY", "Storage", "ThreadBoundStorage", "adopt_context", "rehome"]

EMPTY: Mapping[str, Any] = {}


class Storage:
    """A ``Local``'s attributes, as owned by one thread."""

    __slots__ = ("data", "thread_id")

    def __init__(self, thread_id: int, data: Mapping[str, Any]) -> None:
        self.thread_id = thread_id
        self.data = data

    def visible_data(self) -> Mapping[str, Any]:
        """The attributes, or none when the storage belongs to another thread."""
        return self.data if self.thread_id == threading.get_ident() else EMPTY


class ThreadBoundStorage(Storage):
    """Storage that never leaves its thread (see the module docstring)."""

    __slots__ = ()


def rehome(value: object) -> object:
    """``value``, made visible in the current thread if it is movable ``Local`` storage."""
    if type(value) is Storage:
        ident = threading.get_ident()
        if value.thread_id != ident:
            return Storage(ident, value.data)
    return value


def adopt_context() -> None:
    """Rehome every ``Local`` storage of the current context to the current thread.

    Called first thing where asgiref runs work in a context it carried from another thread.
    """
    for var, value in contextvars.copy_context().items():
        moved = rehome(value)
        if moved is not value:
            var.set(moved)
