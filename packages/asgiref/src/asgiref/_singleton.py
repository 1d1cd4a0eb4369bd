"""One lazily created object per process (the shared loop, the global worker thread).

Invariants: nothing is created at import; the first ``get()`` creates the object and, once
per process lifetime of the holder, registers the exit hook (``stop``) and the fork hook; a
forked child forgets the parent's object (its thread did not survive the fork) and starts a
fresh one on its next ``get()``, with a fresh lock, since the parent's may have been held.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["ProcessSingleton"]

_T = TypeVar("_T")


class ProcessSingleton(Generic[_T]):
    """Holds the process's one ``_T``: made by ``create``, ended by ``shut``."""

    def __init__(
        self,
        create: Callable[[], _T],
        shut: Callable[[_T], None],
        forget: Callable[[_T], None] | None = None,
    ) -> None:
        self._create = create
        self._shut = shut
        self._forget = forget  # told about an object a forked child leaves behind
        self._lock = threading.Lock()
        self._value: _T | None = None
        self._hooks_installed = False

    def get(self) -> _T:
        value = self._value
        if value is not None:
            return value
        with self._lock:
            if self._value is None:
                if not self._hooks_installed:
                    self._hooks_installed = True
                    atexit.register(self.stop)
                    if hasattr(os, "register_at_fork"):
                        os.register_at_fork(after_in_child=self._after_fork)
                self._value = self._create()
            return self._value

    def stop(self) -> None:
        """End the object, if any; the next ``get()`` creates another."""
        with self._lock:
            value, self._value = self._value, None
        if value is not None:
            self._shut(value)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        value, self._value = self._value, None
        if value is not None and self._forget is not None:
            self._forget(value)
