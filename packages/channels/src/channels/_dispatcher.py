"""The loop that reads messages from several sources and runs handlers.

Ordering (documented in the README):

* Each source (the client's ``receive`` is source 0, the channel layer is
  source 1) is read one message at a time. In the default, sequential mode a
  source is read again only after its previous message's handler finished,
  exactly as upstream Channels does; so a busy consumer leaves the rest in the
  channel layer, where capacity applies, and a consumer waiting in
  ``receive`` is idle (the worker relies on that to drain on SIGTERM).
  Sources that must be watched while a handler runs (the client, when
  ``interrupt_types`` is set; the layer, when ``max_concurrency > 1``) are
  read again as soon as their message starts being handled. Either way at
  most one message per source is buffered.
* With ``max_concurrency == 1`` (the default) handlers run one at a time,
  exactly as upstream Channels does.
* With ``max_concurrency > 1`` channel-layer messages run concurrently, up to
  the limit. Client messages still run one at a time in arrival order. A
  message whose type is a *barrier* (the disconnects) runs alone: it waits
  until every running handler has finished, and nothing that arrived after
  it starts before it has finished.
* A message whose type is in ``interrupt_types`` (``http.disconnect`` for
  HTTP consumers) cancels the running handlers before it is handled.
* The first handler exception (including ``StopConsumer``) cancels the other
  handlers and propagates.
* A client message whose type is in ``final_types`` (the connection's
  disconnect) is the client's last: the client is not read again. (Servers
  answer every later ``receive()`` with another disconnect, as the ASGI spec
  allows; read on, each one would interrupt the handler of the one before.)
  When no source is left to read and nothing runs, the loop ends.
* Cancelling the loop is never swallowed, even while it waits for interrupted
  handlers to finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._types import Message

__all__ = ["BARRIER_TYPES", "DispatchLoop"]

Source = Callable[[], Awaitable[Message]]
Handler = Callable[[Message], Awaitable[None]]

BARRIER_TYPES: frozenset[str] = frozenset({"websocket.disconnect", "http.disconnect"})

_CLIENT = 0


@dataclass
class DispatchLoop:
    sources: Sequence[Source]
    handler: Handler
    max_concurrency: int = 1
    interrupt_types: Collection[str] = frozenset()
    barrier_types: Collection[str] = BARRIER_TYPES
    final_types: Collection[str] = frozenset()
    _reads: dict[asyncio.Task[Message], int] = field(default_factory=dict)
    _queue: list[tuple[int, Message]] = field(default_factory=list)
    _running: dict[asyncio.Task[None], int] = field(default_factory=dict)
    _read_after_finish: set[asyncio.Task[None]] = field(default_factory=set)
    _running_barriers: set[asyncio.Task[None]] = field(default_factory=set)
    _ended_sources: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not isinstance(self.max_concurrency, int) or self.max_concurrency < 1:
            raise ValueError(f"max_concurrency must be an int >= 1, got {self.max_concurrency!r}")

    def _read(self, index: int) -> asyncio.Task[Message] | None:
        """Start reading source *index*; None if that source has ended."""
        if index in self._ended_sources:
            return None
        task = asyncio.ensure_future(self.sources[index]())
        self._reads[task] = index
        return task

    def _take(self, task: asyncio.Task[Message]) -> tuple[int, Message]:
        """The source and message of a finished read; a final client message ends the client."""
        source = self._reads.pop(task)
        message = task.result()
        if source == _CLIENT and message.get("type") in self.final_types:
            self._ended_sources.add(source)
        return source, message

    def _can_start(self, source: int, message: Message) -> bool:
        if len(self._running) >= self.max_concurrency or self._barrier_running():
            return False
        if self._running and message.get("type") in self.barrier_types:
            return False
        return not (source == _CLIENT and _CLIENT in self._running.values())

    def _start_ready(self) -> None:
        # Queue order is arrival order; a held message does not block a later
        # one from another source (only its own source, which is not read),
        # except a held barrier: nothing that arrived after a disconnect may
        # start before it, or a steady stream of layer messages could starve it.
        for entry in list(self._queue):
            source, message = entry
            if not self._can_start(source, message):
                if message.get("type") in self.barrier_types:
                    break
            else:
                self._queue.remove(entry)
                task = asyncio.ensure_future(self.handler(message))
                self._running[task] = source
                if message.get("type") in self.barrier_types:
                    self._running_barriers.add(task)
                if self._watch_while_running(source):
                    self._read(source)
                else:
                    self._read_after_finish.add(task)

    def _barrier_running(self) -> bool:
        # A barrier (a disconnect) runs alone, in both directions.
        return bool(self._running_barriers & self._running.keys())

    def _watch_while_running(self, source: int) -> bool:
        if source == _CLIENT:
            return bool(self.interrupt_types)
        return self.max_concurrency > 1

    async def _cancel_running(self, *, quiet: bool = False) -> None:
        tasks = list(self._running.items())
        waiting_sources = [src for task, src in tasks if task in self._read_after_finish]
        self._running.clear()
        self._read_after_finish.clear()
        self._running_barriers.clear()
        for task, _ in tasks:
            task.cancel()
        # asyncio.wait, unlike awaiting each task under suppress(CancelledError),
        # lets a cancellation of this loop itself through.
        await _settle([task for task, _ in tasks])
        # On shutdown another error is already propagating; a handler that
        # fails while being cancelled must not replace it.
        errors = [task.exception() for task, _ in tasks if not task.cancelled()]
        first = next((error for error in errors if error is not None), None)
        if first is not None and not quiet:
            raise first
        if not quiet:
            for source in waiting_sources:
                self._read(source)

    async def run(self) -> None:
        """Run until a handler raises (``StopConsumer`` ends it) or we are cancelled."""
        for index in range(len(self.sources)):
            self._read(index)
        try:
            if self.max_concurrency == 1 and not self.interrupt_types:
                await self._run_inline()
            else:
                await self._run_scheduled()
        finally:
            await self._shutdown()

    async def _run_inline(self) -> None:
        # The common case needs no scheduling: nothing runs beside the one
        # handler, so it is awaited directly (no task per message) and its
        # source is read again only after it returns. A read reports its own
        # completion (no asyncio.wait per message, the main per-message cost of
        # a broadcast here); everything done at a wake-up runs in source order,
        # the client first, as asyncio.wait's done set did.
        loop = asyncio.get_running_loop()
        done: list[asyncio.Task[Message]] = []
        waiter: list[asyncio.Future[None]] = []

        def finished(task: asyncio.Task[Message]) -> None:
            done.append(task)
            if waiter and not waiter[0].done():
                waiter[0].set_result(None)

        for task in self._reads:
            task.add_done_callback(finished)
        while self._reads:
            if not done:
                waiter[:] = [loop.create_future()]
                await waiter[0]
            ready = done[:] if len(done) == 1 else sorted(done, key=self._reads.__getitem__)
            done.clear()
            for task in ready:
                source, message = self._take(task)
                await self.handler(message)
                again = self._read(source)
                if again is not None:
                    again.add_done_callback(finished)

    async def _run_scheduled(self) -> None:
        while self._reads or self._running:
            waiting = set(self._reads) | set(self._running)
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task in self._reads:
                    source, message = self._take(task)  # type: ignore[arg-type]
                    if message.get("type") in self.interrupt_types and self._running:
                        await self._cancel_running()
                    self._queue.append((source, message))
                elif task in self._running:
                    # (A handler an interrupt already cancelled is skipped.)
                    source = self._running.pop(task)  # type: ignore[arg-type]
                    task.result()
                    if task in self._read_after_finish:
                        self._read_after_finish.discard(task)
                        self._read(source)
            self._start_ready()

    async def _shutdown(self) -> None:
        await self._cancel_running(quiet=True)
        reads = list(self._reads)
        self._reads.clear()
        for task in reads:
            task.cancel()
        await _settle(reads)
        for task in reads:
            if not task.cancelled():
                task.exception()  # retrieved: a read that failed while cancelled is dropped


async def _settle(tasks: Collection[asyncio.Future[Any]]) -> None:
    """Wait until every task is done, without raising their errors or cancellations."""
    if tasks:
        await asyncio.wait(tasks)
