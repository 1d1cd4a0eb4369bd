"""Event loops running forever in daemon threads, for ``async_to_sync`` calls.

Plain threads run their calls on loops of their own (``_thread_loop``). A loop here serves
the calls made inside :class:`~asgiref.sync.AsyncSingleThreadContext` (one shared loop,
created lazily), a thread's own loop once it has graduated (it must keep running between
calls), and ``force_new_loop=True`` calls (one loop per call). The shared loop keeps
loop-bound resources usable from call to call and from thread to thread.

Invariants:

* The shared loop is created lazily on first use, never at import, and recreated in a
  forked child (the parent's loop thread does not exist there).
* Every loop here records which call started which task (``_task_scope``), so that a call
  cancels and awaits the tasks it leaves behind without touching other calls' tasks.
* At interpreter exit the loop cancels what is left, finalises async generators, shuts its
  default executor down, stops, and is closed after its thread is joined.
"""

from __future__ import annotations

import asyncio
import threading

from ._singleton import ProcessSingleton
from ._task_scope import scoped_task_factory

__all__ = ["LoopThread", "finish_leftovers", "shared_loop_thread", "stop_shared_loop_thread"]


class LoopThread:
    """An event loop running forever in its own daemon thread."""

    def __init__(
        self, name: str = "asgiref-async-to-sync", loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        """Start a thread running ``loop`` (an idle loop handed over), or a new loop."""
        if loop is None:
            loop = asyncio.new_event_loop()
            loop.set_task_factory(scoped_task_factory)  # type: ignore[arg-type]
        self.loop = loop
        self._stopping = False
        self._close_in_thread = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            # Only stop() ends the thread: a coroutine calling loop.stop() on the shared loop
            # would otherwise strand every caller waiting on it.
            while not self._stopping:
                self.loop.run_forever()
        finally:
            asyncio.set_event_loop(None)
            if self._close_in_thread and not self.loop.is_closed():
                self.loop.close()

    def is_usable(self) -> bool:
        return self.thread.is_alive() and not self.loop.is_closed()

    def stop(self) -> None:
        """Cancel leftovers, finalise, stop and close the loop; join its thread."""
        if self.loop.is_closed():
            return
        if threading.current_thread() is self.thread:
            raise RuntimeError("A LoopThread cannot stop itself from its own thread")
        if self.thread.is_alive() and not self._stopping:
            try:
                done = asyncio.run_coroutine_threadsafe(self._finish(), self.loop)
                done.result()
            except RuntimeError:
                pass  # the loop already stopped
            self._stopping = True
            self.loop.call_soon_threadsafe(self.loop.stop)
        # After stop_soon, the loop's thread finishes, stops and closes the loop itself.
        self.thread.join()
        self.loop.close()

    def stop_soon(self) -> None:
        """Like :meth:`stop`, without waiting: the loop's own thread finishes and closes it
        (for a caller that may be that thread, or must not block)."""
        if self.loop.is_closed() or self._stopping:
            return
        self._stopping = True
        self._close_in_thread = True
        try:
            self.loop.call_soon_threadsafe(self.loop.create_task, self._finish_and_stop())
        except RuntimeError:
            pass  # closed meanwhile

    async def _finish_and_stop(self) -> None:
        try:
            await self._finish()
        finally:
            self.loop.stop()

    async def _finish(self) -> None:
        await finish_leftovers()
        await self.loop.shutdown_default_executor()


async def finish_leftovers() -> None:
    """On the running loop: cancel and await every other task, finalise async generators
    (what ``asyncio.run`` does before it closes its loop)."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


# Loops inherited by a forked child: their thread is gone, so they can neither run nor be
# closed cleanly; they are kept referenced so that no "unclosed loop" warning fires later.
_orphans: list[LoopThread] = []
_SHARED: ProcessSingleton[LoopThread] = ProcessSingleton(
    LoopThread, LoopThread.stop, _orphans.append
)


def shared_loop_thread() -> LoopThread:
    """The process's shared loop thread, started on first use."""
    return _SHARED.get()


def stop_shared_loop_thread() -> None:
    """Stop the shared loop (at exit; tests may call it to start afresh)."""
    _SHARED.stop()
