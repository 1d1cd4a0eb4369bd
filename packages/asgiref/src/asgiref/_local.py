"""``Local``: attribute storage scoped to the current context (or thread).

``Local()`` (a :class:`_DefaultLocal`) keeps a :class:`~asgiref._storage.Storage` in a
:class:`contextvars.ContextVar`. Because ``sync_to_async`` and ``async_to_sync`` carry
context changes back to their caller (and rehome the storage to the receiving thread), a
value set on one side of the boundary is visible on the other, exactly like a thread-local
in purely sync code; a thread that merely inherits a copy of the context sees nothing.

``Local(thread_critical=True)`` (a :class:`_ThreadCriticalLocal`) never crosses a thread
boundary. In a sync thread it is a plain :class:`threading.local`; in a thread running an
event loop it is additionally local to the task's context, so concurrent tasks on one loop
do not share values (each request gets its own database connection object, say).

``Local(...)`` returns one of the two classes, as in asgiref 3.13; ``Local`` itself cannot
be subclassed.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any, final

from ._storage import EMPTY, Storage, ThreadBoundStorage

__all__ = ["Local"]

_set = object.__setattr__
# Names of the implementation's own slots: user code may not overwrite them.
_RESERVED = frozenset({"_async_stores", "_data", "_storage"})


def _missing(local: object, key: str) -> AttributeError:
    return AttributeError(f"{local!r} object has no attribute {key!r}")


class _ContextStore:
    """Copy-on-write attributes in one context variable, tagged by owning thread."""

    __slots__ = ("_data", "_storage_type")

    def __init__(self, name: str, storage_type: type[Storage]) -> None:
        self._data: contextvars.ContextVar[Storage] = contextvars.ContextVar(name)
        self._storage_type = storage_type

    def current(self) -> Any:
        storage = self._data.get(None)
        return EMPTY if storage is None else storage.visible_data()

    def get(self, local: object, key: str) -> Any:
        try:
            return self.current()[key]
        except KeyError:
            raise _missing(local, key) from None

    def set(self, key: str, value: Any) -> None:
        data = {**self.current(), key: value}
        self._data.set(self._storage_type(threading.get_ident(), data))

    def delete(self, local: object, key: str) -> None:
        current = self.current()
        if key not in current:
            raise _missing(local, key)
        data = {k: v for k, v in current.items() if k != key}
        self._data.set(self._storage_type(threading.get_ident(), data))


@final
class Local:
    """Attribute storage local to the current context (default) or thread (``thread_critical``).

    ``Local()`` and ``Local(thread_critical=True)`` create instances of two private
    subclasses; ``isinstance(obj, Local)`` holds for both.
    """

    def __new__(cls, thread_critical: bool = False) -> Local:
        if cls is not Local:
            raise TypeError("asgiref.local.Local cannot be subclassed")
        return object.__new__(_ThreadCriticalLocal if thread_critical else _DefaultLocal)

    def __init__(self, thread_critical: bool = False) -> None:
        pass

    # Declared for type checkers; the subclasses implement them.
    def __getattr__(self, key: str) -> Any:
        raise _missing(self, key)

    def __setattr__(self, key: str, value: Any) -> None:
        raise NotImplementedError

    def __delattr__(self, key: str) -> None:
        raise NotImplementedError


def _check_name(key: str) -> None:
    if key in _RESERVED:
        raise AttributeError(f"Cannot set attribute {key!r} on Local")


class _DefaultLocal(Local):  # type: ignore[misc]  # Local is final for users, not for us
    """``Local()``: context storage, shared across asgiref's sync/async hand-overs."""

    _storage: _ContextStore

    def __init__(self, thread_critical: bool = False) -> None:
        _set(self, "_storage", _ContextStore(f"asgiref.local@{id(self):x}", Storage))

    def __getattr__(self, key: str) -> Any:
        return self._storage.get(self, key)

    def __setattr__(self, key: str, value: Any) -> None:
        _check_name(key)
        self._storage.set(key, value)

    def __delattr__(self, key: str) -> None:
        self._storage.delete(self, key)

    def __repr__(self) -> str:
        return f"<asgiref.local.Local at {id(self):#x}>"


class _ThreadCriticalLocal(Local):  # type: ignore[misc]
    """``Local(thread_critical=True)``: per thread, and per task context in async threads."""

    _storage: threading.local
    _async_stores: threading.local

    def __init__(self, thread_critical: bool = True) -> None:
        _set(self, "_storage", threading.local())
        _set(self, "_async_stores", threading.local())

    def _async_store(self) -> _ContextStore | None:
        """This thread's context store when it runs an event loop, else None."""
        if asyncio._get_running_loop() is None:
            return None
        stores = self._async_stores
        store: _ContextStore | None = getattr(stores, "store", None)
        if store is None:
            name = f"asgiref.local.thread_critical@{id(self):x}"
            store = _ContextStore(name, ThreadBoundStorage)
            stores.store = store
        return store

    def __getattr__(self, key: str) -> Any:
        store = self._async_store()
        if store is not None:
            return store.get(self, key)
        try:
            return getattr(self._storage, key)
        except AttributeError:
            raise _missing(self, key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        _check_name(key)
        store = self._async_store()
        if store is not None:
            store.set(key, value)
        else:
            setattr(self._storage, key, value)

    def __delattr__(self, key: str) -> None:
        store = self._async_store()
        if store is not None:
            store.delete(self, key)
            return
        try:
            delattr(self._storage, key)
        except AttributeError:
            raise _missing(self, key) from None

    def __repr__(self) -> str:
        return f"<asgiref.local.Local thread_critical at {id(self):#x}>"
