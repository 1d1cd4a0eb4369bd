"""One layer instance's attachment: segment, client slot, wake-up FIFO, receive pump.

Created on first use (never at construction or import) and torn down by
``close``. All shared-memory work is synchronous and short: it happens under
the segment lock and never awaits while holding it.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable

from ._config import IPCConfig
from ._demux import Demux
from ._layout import CLIENT_SLOTS
from ._segment import SharedState, attach
from ._spin import Spinner
from ._wakeup import Poster, Waker

__all__ = ["Session"]


class Session:
    def __init__(self, config: IPCConfig) -> None:
        self.config = config
        self.pid = os.getpid()
        self.token = secrets.token_hex(8)
        self.slot = -1
        self.closed = False
        # The FIFO exists before the slot that names it is visible.
        self.waker = Waker(config.wake_path(self.token), config.mode)
        try:
            self.state: SharedState = attach(config, self._register)
        except BaseException:
            self.waker.close()
            raise
        self.poster = Poster()
        self.flushes_seen = self.state.flushes()
        self.demux = Demux(self.pop, self.waker, self.sync_flushes, Spinner(config.spin))

    # Client bookkeeping (under the lock) -----------------------------------------

    def _register(self, state: SharedState) -> None:
        self._reclaim(state)
        self.slot = state.clients.register(self.pid, self.token)

    def _reclaim(self, state: SharedState) -> None:
        for slot, token in state.clients.dead():
            state.queues.forget_client(slot)
            state.clients.release(slot)
            try:
                os.unlink(self.config.wake_path(token))
            except FileNotFoundError:
                pass

    def wake(self, state: SharedState, slots: Iterable[int]) -> list[str]:
        """FIFO paths to post for *slots* (read under the lock)."""
        names = []
        for slot in slots:
            if slot == self.slot:
                names.append("")
                continue
            token = state.clients.token(slot)
            if token is not None:
                names.append(self.config.wake_path(token))
        return names

    def post(self, names: Iterable[str]) -> None:
        for name in names:
            if name:
                self.poster.post(name)
            else:
                self.waker.wake_local()

    # Operations ------------------------------------------------------------------

    def pop(self, key: str, keep_waiting: bool) -> tuple[float, bytes, bytes] | None:
        if self.closed:
            raise RuntimeError(
                "the channel layer was closed while this receive was waiting; "
                "expected receives to finish (or be cancelled) before close()"
            )
        with self.state.locked() as state:
            # Under the lock, so a message popped here is never mistaken for
            # one buffered before a flush.
            self.sync_flushes()
            return state.queues.pop(key.encode("ascii"), time.monotonic(), self.slot, keep_waiting)

    def sync_flushes(self) -> None:
        """Drop local buffers if any client flushed since this one last looked."""
        if not self.closed:
            flushes = self.state.flushes()
            if flushes != self.flushes_seen:
                self.flushes_seen = flushes
                self.demux.clear()

    def flush(self) -> None:
        with self.state.locked() as state:
            state.reset()
            self.flushes_seen = state.flushes()
            self._reclaim(state)
            # The reset dropped every waiter mark too: wake all clients so
            # their blocked receivers look again and re-mark themselves.
            live = [slot for slot in range(CLIENT_SLOTS) if state.clients.token(slot)]
            names = self.wake(state, live)
        self.demux.clear()
        self.post(names)

    def close(self) -> None:
        self.closed = True
        try:
            with self.state.locked() as state:
                state.queues.forget_client(self.slot)
                state.clients.release(self.slot)
                self._reclaim(state)
                if not state.clients.live():
                    state.mark_dead_and_unlink()
        finally:
            self.waker.close()
            self.poster.close()
            self.state.detach()
