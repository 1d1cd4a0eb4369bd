"""``ApplicationCommunicator``: drive one ASGI application instance from a test.

The application runs as a task on the test's loop; ``send_input`` feeds its ``receive`` and
``receive_output`` reads what it ``send``s. Whenever the application has crashed, the next
call re-raises its exception, so a test sees the real error rather than a timeout.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from ._compatibility import guarantee_single_callable

__all__ = ["ApplicationCommunicator"]


class ApplicationCommunicator:
    """Run ``application(scope, receive, send)`` as a task and talk to it through queues.

    Must be created with an event loop running (inside an async test).
    """

    def __init__(self, application: Any, scope: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "ApplicationCommunicator must be created inside a running event loop "
                "(in an async test), not from sync code"
            ) from None
        self.application = guarantee_single_callable(application)
        self.scope = scope
        self.input_queue: asyncio.Queue[Any] = asyncio.Queue()
        self.output_queue: asyncio.Queue[Any] = asyncio.Queue()
        # The application runs in a copy of the creator's context, like under a server.
        context = contextvars.copy_context()
        self.future: asyncio.Future[Any] = context.run(
            asyncio.ensure_future,
            self.application(scope, self.input_queue.get, self.output_queue.put),
        )

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
        if not self.future.done():
            self.future.cancel()
        elif exceptions and not self.future.cancelled():
            self.future.result()

    def __del__(self) -> None:
        future = getattr(self, "future", None)
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
        if not self.output_queue.empty():
            return self.output_queue.get_nowait()
        if self.future.done():
            self._raise_if_crashed()
            raise asyncio.TimeoutError("the application finished without sending anything")
        # Wait for output *or* the application's end, so a crash surfaces at once instead
        # of after the whole timeout.
        getter = asyncio.ensure_future(self.output_queue.get())
        await asyncio.wait({getter, self.future}, timeout=timeout, return_when="FIRST_COMPLETED")
        if getter.done() or not getter.cancel():
            return getter.result()
        if self.future.done():
            self._raise_if_crashed()
            raise asyncio.TimeoutError("the application finished without sending anything")
        await self._cancel_and_settle()
        raise asyncio.TimeoutError(f"the application sent nothing within {timeout} s")

    async def receive_nothing(self, timeout: float = 0.1, interval: float = 0.01) -> bool:
        """True if the application sends nothing within ``timeout`` seconds."""
        if not self.output_queue.empty():
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            await asyncio.sleep(interval)
            if not self.output_queue.empty():
                return False
        return self.output_queue.empty()
