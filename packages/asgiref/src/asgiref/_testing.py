"""``ApplicationCommunicator``: drive one ASGI application instance from a test.

The application runs as a task on the test's loop; ``send_input`` feeds its ``receive`` and
``receive_output`` reads what it ``send``s. Whenever the application has crashed, the next
call re-raises its exception, so a test sees the real error rather than a timeout.

Invariants:

* The application task starts lazily, on first use, in an empty ``contextvars.Context``
  (as under a server, whose connections do not inherit the test's context variables). A
  communicator can therefore be created before the loop runs (``asyncio.run(test())``).
* ``receive_output`` awaits the output queue in the caller's own task. Cancelling the
  caller (``asyncio.wait_for`` around it) therefore leaves nothing behind that could take
  a later message: the next message stays queued for the next call.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from ._compatibility import guarantee_single_callable

__all__ = ["ApplicationCommunicator"]


class ApplicationCommunicator:
    """Run ``application(scope, receive, send)`` as a task and talk to it through queues."""

    def __init__(self, application: Any, scope: Any) -> None:
        self.application = guarantee_single_callable(application)
        self.scope = scope
        self.input_queue: asyncio.Queue[Any] = asyncio.Queue()
        self.output_queue: asyncio.Queue[Any] = asyncio.Queue()
        self._future: asyncio.Future[Any] | None = None

    @property
    def future(self) -> asyncio.Future[Any]:
        """The application's task, started on first access (needs a running loop)."""
        if self._future is None:
            coro = self.application(self.scope, self.input_queue.get, self.output_queue.put)
            self._future = contextvars.Context().run(asyncio.ensure_future, coro)
        return self._future

    async def wait(self, timeout: float = 1) -> None:
        """Wait for the application to return; re-raise its exception.

        On timeout the application is cancelled and :class:`asyncio.TimeoutError` raised.
        """
        # asyncio.wait, not "await self.future" under a timeout: cancelling a task that
        # awaits the future would cancel the application too and hide the timeout.
        done, _pending = await asyncio.wait({self.future}, timeout=timeout)
        if not done:
            await self._cancel_and_settle()
            raise asyncio.TimeoutError(f"the application did not finish within {timeout} s")
        if not self.future.cancelled():
            self.future.result()

    async def _cancel_and_settle(self) -> None:
        if not self.future.done():
            self.future.cancel()
            try:
                await self.future
            except asyncio.CancelledError:
                pass

    def stop(self, exceptions: bool = True) -> None:
        """Cancel the application; with ``exceptions``, re-raise the error it died with."""
        future = self._future
        if future is None:
            return
        if not future.done():
            future.cancel()
        elif exceptions and not future.cancelled():
            future.result()

    def __del__(self) -> None:
        future = getattr(self, "_future", None)
        if future is not None and not future.done():
            try:
                future.cancel()
            except RuntimeError:
                pass  # its loop is closed already

    async def send_input(self, message: Any) -> None:
        """Deliver ``message`` to the application's ``receive``."""
        self._raise_if_crashed()
        await self.input_queue.put(message)

    def _raise_if_crashed(self) -> None:
        if self.future.done() and not self.future.cancelled():
            self.future.result()

    async def receive_output(self, timeout: float = 1) -> Any:
        """Return the next message the application sent.

        Raises the application's exception if it crashed, or :class:`asyncio.TimeoutError`
        (after cancelling the application) if nothing arrives within ``timeout`` seconds.
        """
        self._raise_if_crashed()
        if not self.output_queue.empty():
            return self.output_queue.get_nowait()
        if self.future.done():
            raise asyncio.TimeoutError("the application finished without sending anything")
        # timeout <= 0 (as in 3.x): only what is queued already; nothing is waited for.
        if timeout > 0:
            try:
                return await self._wait_for_output(timeout)
            except _Interrupted:
                pass
        if not self.output_queue.empty():
            return self.output_queue.get_nowait()
        if self.future.done():
            self._raise_if_crashed()
            raise asyncio.TimeoutError("the application finished without sending anything")
        await self._cancel_and_settle()
        raise asyncio.TimeoutError(f"the application sent nothing within {timeout} s")

    async def _wait_for_output(self, timeout: float) -> Any:
        waiter = _Interruptible()
        timer = asyncio.get_running_loop().call_later(timeout, waiter.interrupt, "timeout")
        # Wake at once if the application ends, so a crash surfaces without the full wait.
        on_done = waiter.interrupt_on_done
        self.future.add_done_callback(on_done)
        try:
            return await waiter.run(self.output_queue.get())
        finally:
            timer.cancel()
            self.future.remove_done_callback(on_done)

    async def receive_nothing(self, timeout: float = 0.1, interval: float = 0.01) -> bool:
        """True if the application sends nothing within ``timeout`` seconds.

        Checks every ``interval`` seconds and returns False as soon as output is queued;
        re-raises the application's exception if it crashed.
        """
        self._raise_if_crashed()
        if not self.output_queue.empty():
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            await asyncio.sleep(interval)
            if not self.output_queue.empty():
                return False
        return self.output_queue.empty()


class _Interrupted(Exception):
    """The wait was ended by a timer or by the application finishing."""


class _Interruptible:
    """Await something in the current task, ending the wait early on :meth:`interrupt`.

    The interruption cancels the waiting task itself (no helper task that could outlive a
    cancelled caller) and is turned back into :class:`_Interrupted`; a cancellation from
    anywhere else propagates unchanged.
    """

    def __init__(self) -> None:
        self._task = asyncio.current_task()
        self._active = False
        self.reason: str | None = None

    def interrupt(self, reason: str) -> None:
        if self._active and self.reason is None and self._task is not None:
            self.reason = reason
            self._task.cancel()

    def interrupt_on_done(self, _future: asyncio.Future[Any]) -> None:
        self.interrupt("finished")

    async def run(self, awaitable: Any) -> Any:
        self._active = True
        try:
            return await awaitable
        except asyncio.CancelledError:
            # The cancel request lands at the task's next step even when the awaited thing
            # had just finished, so the awaitable always sees it (Queue.get then leaves
            # its item queued): this is the one place where it comes back out.
            if self.reason is not None and self._uncancel():
                raise _Interrupted(self.reason) from None
            raise
        finally:
            self._active = False

    def _uncancel(self) -> bool:
        """Withdraw our cancel request; False if another one is pending too."""
        uncancel = getattr(self._task, "uncancel", None)
        if uncancel is None:
            return True  # Python 3.10 does not count cancellations
        remaining: int = uncancel()
        return remaining == 0
