"""The supervising process of ``daphne --workers N``: the IO around ``_supervisor.Roster``.

It binds the listening sockets once (``_listeners``), starts each worker as
``python -m daphne._worker`` with those sockets and one end of a control socket pair, and
turns what happens into roster events: a worker writes ``ready`` on its control socket once
its endpoints listen, SIGCHLD (or the one-second poll) reports exits, SIGHUP starts a rolling
restart, SIGTERM/SIGINT a drain of every worker. Signals reach the loop through
``signal.set_wakeup_fd``, so the handlers themselves do nothing and nothing races.

Workers run in their own session: a terminal's Ctrl-C reaches only this process, which then
stops the workers with SIGTERM, once. A worker whose supervisor disappears (even by SIGKILL)
sees its control socket close and drains itself, so no worker outlives its supervisor.
"""

from __future__ import annotations

import logging
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from ._listeners import Listener
from ._supervisor import Exit, Kill, Roster, Spawn, Terminate

logger = logging.getLogger("daphne.workers")
_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGCHLD)
#: Added to a worker's own drain bound before it is killed (lifespan shutdown, log flushing).
DRAIN_SLACK = 5.0
#: The loop looks at its children at least this often, even if a SIGCHLD was missed.
POLL_INTERVAL = 1.0


def worker_command(
    args: Sequence[str], listeners: Sequence[Listener], control: int, cli: str
) -> list[str]:
    """The command line of one worker: the supervisor's own arguments after ``--``."""
    command = [sys.executable, "-m", "daphne._worker", "--control", str(control)]
    for listener in listeners:
        command += ["--listen", listener.child_endpoint()]
    if cli:
        command += ["--cli", cli]
    return [*command, "--", *args]


class Arbiter:
    """Runs the roster's decisions with real processes until it says to exit."""

    def __init__(
        self, args: Sequence[str], listeners: list[Listener], roster: Roster, cli: str = ""
    ) -> None:
        self.args = list(args)
        self.listeners = listeners
        self.roster = roster
        self.cli = cli
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self.controls: dict[int, socket.socket] = {}
        self.selector = selectors.DefaultSelector()
        self.wakeup, self._wakeup_writer = socket.socketpair()

    def run(self) -> int:
        """Serve until stopped; the exit status (1 when no worker ever started)."""
        previous = self._install_signals()
        try:
            for listener in self.listeners:
                logger.info("Listening on %s", listener.address())
            logger.info("Starting %d workers", self.roster.target)
            while True:
                code = self._step()
                if code is not None:
                    return code
        finally:
            self._restore_signals(previous)
            for process in self.processes.values():
                process.kill()
                process.wait()
            for listener in self.listeners:
                listener.close()

    def _step(self) -> int | None:
        now = time.monotonic()
        for action in self.roster.decide(now):
            if isinstance(action, Exit):
                return action.code
            self._perform(action, now)
        wake = self.roster.wake_at(now)
        timeout = POLL_INTERVAL if wake is None else min(POLL_INTERVAL, max(0.0, wake - now))
        for key, _ in self.selector.select(timeout):
            handler: Callable[[], None] = key.data
            handler()
        self._reap()
        return None

    def _perform(self, action: Spawn | Terminate | Kill, now: float) -> None:
        if isinstance(action, Spawn):
            self._spawn(now)
            return
        process = self.processes.get(action.pid)
        if process is None:
            return
        if isinstance(action, Terminate):
            logger.info("Stopping worker %d (it drains first)", action.pid)
            process.send_signal(signal.SIGTERM)
        else:
            logger.warning("Worker %d did not drain in time; killing it", action.pid)
            process.kill()

    def _spawn(self, now: float) -> None:
        mine, theirs = socket.socketpair()
        fds = [theirs.fileno(), *(listener.fileno for listener in self.listeners)]
        try:
            process = subprocess.Popen(
                worker_command(self.args, self.listeners, theirs.fileno(), self.cli),
                pass_fds=fds,
                start_new_session=True,
            )
        finally:
            theirs.close()
        pid = process.pid
        self.processes[pid] = process
        self.controls[pid] = mine
        self.roster.spawned(pid, now)
        self.selector.register(mine, selectors.EVENT_READ, lambda: self._control(pid))
        logger.info("Started worker %d (generation %d)", pid, self.roster.generation)

    def _control(self, pid: int) -> None:
        control = self.controls[pid]
        try:
            data = control.recv(64)
        except OSError:
            data = b""
        if b"ready" in data:
            logger.info("Worker %d is ready", pid)
            self.roster.became_ready(pid)
        if not data:
            self._forget_control(pid)

    def _forget_control(self, pid: int) -> None:
        control = self.controls.pop(pid, None)
        if control is not None:
            self.selector.unregister(control)
            control.close()

    def _reap(self) -> None:
        now = time.monotonic()
        for pid, process in list(self.processes.items()):
            status = process.poll()
            if status is None:
                continue
            del self.processes[pid]
            self._forget_control(pid)
            if self.roster.exited(pid, now):
                logger.error("Worker %d exited unexpectedly (status %s)", pid, status)
            else:
                logger.info("Worker %d exited (status %s)", pid, status)

    # Signals ---------------------------------------------------------------------------------

    def _install_signals(self) -> dict[int, Any]:
        for end in (self.wakeup, self._wakeup_writer):
            end.setblocking(False)
        self.selector.register(self.wakeup, selectors.EVENT_READ, self._signalled)
        previous: dict[int, Any] = {-1: signal.set_wakeup_fd(self._wakeup_writer.fileno())}
        for number in _SIGNALS:
            previous[number] = signal.signal(number, _note)
        return previous

    def _restore_signals(self, previous: dict[int, Any]) -> None:
        for number, handler in previous.items():
            if number == -1:
                signal.set_wakeup_fd(handler)
            else:
                signal.signal(number, handler)

    def _signalled(self) -> None:
        try:
            numbers = self.wakeup.recv(256)
        except BlockingIOError:
            return
        for number in numbers:
            if number == signal.SIGHUP:
                logger.info("SIGHUP: replacing the workers one at a time")
                self.roster.hangup()
            elif number in (signal.SIGTERM, signal.SIGINT):
                if not self.roster.stopping:
                    logger.info("Stopping: draining every worker")
                self.roster.stop()


def _note(number: int, frame: FrameType | None) -> None:
    """The Python-level handler: the wakeup socket already carries the signal number."""


def supervise(args: Sequence[str], endpoints: list[str], options: Any, cli: str = "") -> int:
    """Run ``daphne <args>`` as ``options.workers`` worker processes; the exit status.

    Raises ValueError (naming the endpoint and the rule) for an endpoint ``--workers`` cannot
    share, before any worker starts.
    """
    from ._listeners import open_listeners

    listeners = open_listeners(endpoints)
    drain = options.shutdown_timeout + options.application_close_timeout + DRAIN_SLACK
    roster = Roster(options.workers, drain_limit=drain)
    return Arbiter(args, listeners, roster, cli).run()


__all__ = ["Arbiter", "supervise", "worker_command"]
