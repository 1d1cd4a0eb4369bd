"""Watching a test's event loop for what a layer leaves behind.

The lifecycle tests (teardown races, broker restarts) run their body through
:func:`run_watched`, which fails the test when, besides the body's own
assertions:

* an exception reached the loop's exception handler: a background task died
  with an exception nobody retrieved, or a task was destroyed while pending;
* a ``ResourceWarning`` (an unclosed socket or transport) or a "coroutine ...
  was never awaited" ``RuntimeWarning`` was emitted, whatever the warning
  filters of the adopting project say (with ``PYTHONTRACEMALLOC=20`` the failure
  shows where the unclosed object was allocated).

Inside the body, :meth:`LoopWatch.assert_no_tasks_left` checks that no task
other than the test's own is still pending (await it right after ``close()``).
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.layers import InvalidChannelName, InvalidGroupName, InvalidMessage

__all__ = ["LoopWatch", "run_watched", "unclear_failure"]

#: Exceptions that say "a bug in the layer", not "the broker or the layer is gone".
_PROGRAMMING_ERRORS = (AttributeError, AssertionError, IndexError, KeyError, NameError, TypeError)
#: Loop iterations a task may take to finish after close() returned.
_GRACE_ITERATIONS = 10
#: TypeErrors the interface defines (the lifecycle tests never provoke them).
_INTERFACE_ERRORS = (InvalidChannelName, InvalidGroupName, InvalidMessage)


def unclear_failure(exc: BaseException) -> str | None:
    """Why *exc* is not a clear failure for a call the caller did not cancel (None: it is).

    A clear failure is an ``Exception`` that is not a programming error: a
    ``CancelledError`` the caller never asked for, or an ``AttributeError`` on a
    connection that ``close()`` set to None, is not.
    """
    if isinstance(exc, asyncio.CancelledError):
        return "CancelledError, although the caller was not cancelled"
    if not isinstance(exc, Exception):
        return f"{type(exc).__name__}, which is not an Exception"
    if isinstance(exc, _PROGRAMMING_ERRORS) and not isinstance(exc, _INTERFACE_ERRORS):
        return f"{type(exc).__name__}: {exc} (a programming error, not a clear failure)"
    return None


class LoopWatch:
    """What the loop of one watched test reported, and the test's own tasks."""

    def __init__(self) -> None:
        self.reports: list[str] = []
        self._own: set[asyncio.Task[Any]] = set()

    def _handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exception = context.get("exception")
        detail = f": {exception!r}" if exception is not None else ""
        where = context.get("task") or context.get("future") or ""
        self.reports.append(f"{context.get('message', 'unknown error')}{detail} {where}".strip())

    def leftover_tasks(self) -> list[asyncio.Task[Any]]:
        """Pending tasks of this loop that are not the test's own."""
        current = asyncio.current_task()
        return [
            task
            for task in asyncio.all_tasks()
            if task is not current and task not in self._own and not task.done()
        ]

    async def assert_no_tasks_left(self, after: str) -> None:
        """Fail if any task but the test's own is still pending *after* something.

        A task woken by what ``close()`` finished may need its last step (client
        libraries run close callbacks in tasks of their own), so the check allows
        a few loop iterations, but no time: a task waiting on anything is a leak.
        """
        for _ in range(_GRACE_ITERATIONS):
            if not self.leftover_tasks():
                return
            await asyncio.sleep(0)
        leftovers = self.leftover_tasks()
        assert not leftovers, (
            f"after {after}, {len(leftovers)} task(s) the layer started are still pending: "
            f"{leftovers[:5]}; close() must end (and await) every task it started"
        )

    async def main(self, body: Callable[[LoopWatch], Awaitable[None]], timeout: float) -> None:
        asyncio.get_running_loop().set_exception_handler(self._handler)
        current = asyncio.current_task()
        assert current is not None
        self._own.add(current)
        try:
            await asyncio.wait_for(body(self), timeout)
        except asyncio.TimeoutError:
            pytest.fail(f"the test body did not finish within {timeout} s: a call hung")
        # Tasks the layer dropped are collected now, on this loop, so that an
        # exception they never had retrieved reaches the handler above.
        gc.collect()
        await asyncio.sleep(0)

    def check(self, caught: list[warnings.WarningMessage]) -> None:
        problems = [f"the event loop reported: {report}" for report in self.reports]
        for warning in caught:
            if issubclass(warning.category, (ResourceWarning, RuntimeWarning)):
                problems.append(f"{warning.category.__name__}: {warning.message}{_origin(warning)}")
            else:  # not ours to judge: hand it on to the project's own filters
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        unique = list(dict.fromkeys(problems))
        assert not unique, "the layer left something behind:\n" + "\n".join(unique[:10])


def _origin(warning: warnings.WarningMessage) -> str:
    """Where the unclosed object was allocated, when tracemalloc is tracing."""
    if warning.source is None or not tracemalloc.is_tracing():
        return ""
    trace = tracemalloc.get_object_traceback(warning.source)
    return "" if trace is None else "\n  allocated at:\n  " + "\n  ".join(trace.format())


def run_watched(body: Callable[[LoopWatch], Awaitable[None]], timeout: float) -> None:
    """Run ``body(watch)`` in a fresh event loop and fail on anything left behind."""
    watch = LoopWatch()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        warnings.filterwarnings("always", message=".*was never awaited", category=RuntimeWarning)
        asyncio.run(watch.main(body, timeout))
        gc.collect()
    watch.check(caught)
