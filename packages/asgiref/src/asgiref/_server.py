"""``StatelessServer``: a base class for servers that multiplex many application instances.

Subclasses implement :meth:`handle` (receive work, route it to instances through
:meth:`get_or_create_application_instance`) and :meth:`application_send` (deliver what an
instance sends). The base class keeps at most ``max_applications`` instances alive (evicting
the least recently used), and :meth:`application_checker` reaps finished ones, reporting
crashes through :meth:`application_exception`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._compatibility import guarantee_single_callable

__all__ = ["StatelessServer"]

logger = logging.getLogger("asgiref.server")


class StatelessServer:
    """Base class for servers that keep one application instance per scope id."""

    application_checker_interval = 0.1

    def __init__(self, application: Any, max_applications: int = 1000) -> None:
        if max_applications < 1:
            raise ValueError(f"max_applications must be >= 1, got {max_applications!r}")
        self.application = application
        self.max_applications = max_applications
        # scope_id -> {"input_queue", "future", "scope", "last_used"}
        self.application_instances: dict[str, dict[str, Any]] = {}

    # Entry points

    def run(self) -> None:
        """Run the server until :meth:`handle` returns or Ctrl-C is pressed."""
        try:
            asyncio.run(self.arun())
        except KeyboardInterrupt:
            logger.info("Exiting due to Ctrl-C/interrupt")

    async def arun(self) -> None:
        """Run :meth:`handle` and the application checker until ``handle`` returns."""
        checker = asyncio.ensure_future(self.application_checker())
        try:
            await self.handle()
        finally:
            checker.cancel()
            for scope_id in list(self.application_instances):
                self.delete_application_instance(scope_id)
            await asyncio.gather(checker, return_exceptions=True)

    async def handle(self) -> None:
        """Receive work and dispatch it; implemented by subclasses."""
        raise NotImplementedError("StatelessServer subclasses must implement handle()")

    async def application_send(self, scope: Any, message: Any) -> None:
        """Deliver a message an application instance sent; implemented by subclasses."""
        raise NotImplementedError("StatelessServer subclasses must implement application_send()")

    # Instance management

    def get_or_create_application_instance(self, scope_id: str, scope: Any) -> asyncio.Queue[Any]:
        """Return the input queue of the instance for ``scope_id``, creating it if needed.

        A plain method, as in asgiref 3.x (``handle()`` calls it without ``await``); it
        must be called from the event loop's thread, since a new instance is a task on it.
        """
        details = self.application_instances.get(scope_id)
        if details is not None:
            details["last_used"] = time.monotonic()
            queue: asyncio.Queue[Any] = details["input_queue"]
            return queue
        # Make room first, so the instance count never exceeds max_applications.
        while len(self.application_instances) >= self.max_applications:
            self.delete_oldest_application_instance()
        input_queue: asyncio.Queue[Any] = asyncio.Queue()
        application = guarantee_single_callable(self.application)
        future = asyncio.ensure_future(application(scope, input_queue.get, self._sender_for(scope)))
        self.application_instances[scope_id] = {
            "input_queue": input_queue,
            "future": future,
            "scope": scope,
            "last_used": time.monotonic(),
        }
        return input_queue

    def _sender_for(self, scope: Any) -> Callable[[Any], Awaitable[None]]:
        async def send(message: Any) -> None:
            await self.application_send(scope, message)

        return send

    def delete_oldest_application_instance(self) -> None:
        """Evict the least recently used instance (cancelling it)."""
        if not self.application_instances:
            return
        oldest = min(
            self.application_instances,
            key=lambda scope_id: self.application_instances[scope_id]["last_used"],
        )
        self.delete_application_instance(oldest)

    def delete_application_instance(self, scope_id: str) -> None:
        """Forget the instance for ``scope_id``, cancelling it if it still runs."""
        details = self.application_instances.pop(scope_id, None)
        if details is not None and not details["future"].done():
            details["future"].cancel()

    async def application_checker(self) -> None:
        """Forever: reap finished instances, reporting the ones that crashed."""
        while True:
            await asyncio.sleep(self.application_checker_interval)
            await self.check_application_instances()

    async def check_application_instances(self) -> None:
        """Reap finished instances once (what :meth:`application_checker` repeats)."""
        for scope_id, details in list(self.application_instances.items()):
            future: asyncio.Future[Any] = details["future"]
            if not future.done():
                continue
            if not future.cancelled():
                exception = future.exception()
                if exception is not None:
                    await self.application_exception(exception, details)
            if self.application_instances.get(scope_id) is details:
                del self.application_instances[scope_id]

    async def application_exception(
        self, exception: BaseException, application_details: dict[str, Any]
    ) -> None:
        """Called when an instance died with an exception; logs it by default."""
        logger.error(
            "Exception inside application: %s",
            exception,
            exc_info=(type(exception), exception, exception.__traceback__),
        )
