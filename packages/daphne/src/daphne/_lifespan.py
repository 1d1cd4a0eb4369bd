"""The ASGI lifespan protocol: startup before serving, shutdown after the last connection.

Modes: ``on`` (a failure stops the server), ``off`` (never sent), ``auto`` (an application that
raises before answering ``lifespan.startup`` is taken not to support lifespan, as the spec
allows, and the server carries on).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ._types import Application, Message

logger = logging.getLogger("daphne.lifespan")
MODES = ("auto", "on", "off")


class LifespanFailure(RuntimeError):
    """The application reported (or raised) a startup or shutdown failure in mode ``on``."""


class Lifespan:
    def __init__(self, application: Application, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"expected lifespan mode in {MODES}, got {mode!r}")
        self.application = application
        self.mode = mode
        self.state: dict[str, Any] = {}
        self.supported = mode != "off"
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outcome: asyncio.Future[Message] | None = None
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        if not self.supported:
            return
        loop = asyncio.get_running_loop()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self.state
        self._task = loop.create_task(self._run(scope))
        await self._exchange("startup")

    async def shutdown(self) -> None:
        if not self.supported or self._task is None or self._task.done():
            return
        await self._exchange("shutdown")

    async def _exchange(self, phase: str) -> None:
        self._outcome = asyncio.get_running_loop().create_future()
        await self._inbox.put({"type": f"lifespan.{phase}"})
        message = await self._outcome
        kind = message.get("type")
        if kind == f"lifespan.{phase}.complete":
            return
        if kind == "unsupported":
            self.supported = False
            return
        detail = message.get("message", "")
        if kind == f"lifespan.{phase}.failed":
            raise LifespanFailure(f"lifespan {phase} failed: {detail}")
        raise LifespanFailure(f"lifespan {phase}: application exited: {detail}")

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self.application(scope, self._receive, self._send)
        except BaseException as exc:
            answered = self._outcome is None or self._outcome.done()
            if self.mode == "auto" and not answered:
                logger.info("ASGI 'lifespan' protocol appears unsupported (%r)", exc)
                self._resolve({"type": "unsupported"})
            else:
                logger.error("Exception in 'lifespan' protocol", exc_info=exc)
                self._resolve({"type": "exited", "message": repr(exc)})
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return
        answered = self._outcome is None or self._outcome.done()
        if self.mode == "auto" and not answered:
            # Apps that only handle http/websocket commonly return on an unknown scope type.
            self._resolve({"type": "unsupported"})
        else:
            self._resolve({"type": "exited", "message": "returned without completing lifespan"})

    def _resolve(self, message: Message) -> None:
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(message)

    async def _receive(self) -> Message:
        return await self._inbox.get()

    async def _send(self, message: Message) -> None:
        kind = message.get("type", "")
        if not isinstance(kind, str) or not kind.startswith("lifespan."):
            raise ValueError(f"expected a 'lifespan.*' message, got {kind!r}")
        if self._outcome is None or self._outcome.done():
            raise RuntimeError(f"unexpected lifespan message {kind!r}: no phase is in progress")
        self._resolve(message)


__all__ = ["MODES", "Lifespan", "LifespanFailure"]
