"""``timeout``: an async context manager that cancels its block after a delay.

``async with timeout(1.5):`` raises :class:`asyncio.TimeoutError` (the builtin
:class:`TimeoutError` on 3.11+) if the block is still running after 1.5 s. ``None``
disables the limit. Deprecated, as in asgiref 3.13: creating one warns and points to
:func:`asyncio.timeout` (Python 3.11+), which does the same. Only the cancellation this
manager caused is converted: a cancellation coming from outside propagates unchanged, and on
3.11+ the task's cancel count is restored so structured-concurrency code above keeps working.
"""

from __future__ import annotations

import asyncio
import warnings
from types import TracebackType
from typing import Any

__all__ = ["timeout"]


class timeout:
    """Cancel the enclosed block after ``timeout`` seconds (``None``: never)."""

    def __init__(
        self, timeout: float | None, *, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        warnings.warn(
            "asgiref.timeout.timeout is deprecated. Use asyncio.timeout() instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        if loop is not None:
            warnings.warn(
                "The loop argument to timeout() is deprecated.", DeprecationWarning, stacklevel=2
            )
        if timeout is not None and timeout < 0:
            raise ValueError(f"timeout must be None or >= 0, got {timeout!r}")
        self._timeout = timeout
        self._loop = loop
        self._task: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._fired = False
        self.expired = False

    async def __aenter__(self) -> timeout:
        loop = self._loop or asyncio.get_running_loop()
        self._loop = loop
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("timeout() must be used inside a task")
        self._task = task
        if self._timeout is not None:
            self._deadline = loop.time() + self._timeout
            self._handle = loop.call_at(self._deadline, self._cancel)
        return self

    def _cancel(self) -> None:
        assert self._task is not None
        self._fired = True
        self._task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._fired and exc_type is asyncio.CancelledError:
            uncancel = getattr(self._task, "uncancel", None)
            remaining = uncancel() if uncancel is not None else 0
            if remaining == 0:
                self.expired = True
                raise asyncio.TimeoutError(
                    f"block did not finish within {self._timeout} s"
                ) from exc

    @property
    def remaining(self) -> float | None:
        """Seconds left before the block is cancelled (``None`` without a limit)."""
        if self._deadline is None or self._loop is None:
            return None
        return max(0.0, self._deadline - self._loop.time())
