"""What ``daphne --workers N`` decides: which worker process to start, retire or kill, and when.

This module is free of IO. :class:`Roster` is told what happened (a child was started, became
ready, exited; SIGHUP; SIGTERM) and :meth:`Roster.decide` answers with the actions to take;
``_arbiter`` performs them with real processes and signals.

Invariants:

* a *generation* is the code a child started with; SIGHUP begins a new one. Children of an
  older generation are *stale*: they keep serving until a new child is ready to replace them;
* a rolling restart has at most one new child starting at a time, and retires one stale child
  for each new one that reports ready, so the number of ready children never drops below the
  target because of a restart (it is the target plus one while a replacement starts);
* a stale child is retired with SIGTERM (it drains, as a single daphne does) and killed only
  when it outlives ``drain_limit``;
* a child that exits without being retired is replaced, after a backoff that doubles with each
  failure in a row; if no child has ever become ready, the first failure stops everything
  (the application or the options are broken: restarting would only repeat the error);
* once stopping, every child gets SIGTERM and the roster exits when the last one has gone.
"""

from __future__ import annotations

from dataclasses import dataclass

#: A child that lived this long before failing starts the backoff afresh.
STABLE_AFTER = 30.0
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class Spawn:
    """Start one child of the current generation, then report it with :meth:`Roster.spawned`."""


@dataclass(frozen=True)
class Terminate:
    pid: int


@dataclass(frozen=True)
class Kill:
    pid: int


@dataclass(frozen=True)
class Exit:
    code: int


Action = Spawn | Terminate | Kill | Exit


@dataclass
class Child:
    pid: int
    generation: int
    started: float
    ready: bool = False
    #: When SIGTERM was sent (None while the child is meant to serve).
    retired_at: float | None = None
    killed: bool = False


class Roster:
    """The worker processes of one ``daphne --workers N`` and the decisions about them."""

    def __init__(self, target: int, drain_limit: float) -> None:
        if target < 1:
            raise ValueError(f"expected at least one worker, got {target}")
        self.target = target
        self.drain_limit = drain_limit
        self.generation = 0
        self.children: dict[int, Child] = {}
        self.stopping = False
        self.exit_code = 0
        self.ever_ready = False
        self.failures = 0
        self.respawn_at = 0.0

    # What happened ---------------------------------------------------------------------------

    def spawned(self, pid: int, now: float) -> None:
        self.children[pid] = Child(pid, self.generation, now)

    def became_ready(self, pid: int) -> None:
        child = self.children.get(pid)
        if child is not None:
            child.ready = True
            self.ever_ready = True

    def exited(self, pid: int, now: float) -> bool:
        """Forget ``pid``; True when its exit was a failure (it had not been retired)."""
        child = self.children.pop(pid, None)
        if child is None or child.retired_at is not None or self.stopping:
            return False
        if not self.ever_ready:
            self.stop(exit_code=1)
            return True
        lived = now - child.started
        self.failures = 1 if lived >= STABLE_AFTER else self.failures + 1
        delay = min(FIRST_BACKOFF * 2 ** (self.failures - 1), MAX_BACKOFF)
        self.respawn_at = now + delay
        return True

    def hangup(self) -> None:
        """SIGHUP: every child serving now is replaced, one at a time."""
        if not self.stopping:
            self.generation += 1

    def stop(self, exit_code: int = 0) -> None:
        """SIGTERM/SIGINT: drain every child, then exit."""
        if not self.stopping:
            self.stopping = True
            self.exit_code = exit_code

    # What to do ------------------------------------------------------------------------------

    def decide(self, now: float) -> list[Action]:
        actions: list[Action] = list(self._overdue_kills(now))
        if self.stopping:
            for child in self.children.values():
                if child.retired_at is None:
                    actions.append(self._retire(child, now))
            if not self.children:
                actions.append(Exit(self.exit_code))
            return actions
        serving = [c for c in self.children.values() if c.retired_at is None]
        current = [c for c in serving if c.generation == self.generation]
        stale = sorted((c for c in serving if c.generation < self.generation), key=_age)
        ready = sum(1 for c in current if c.ready)
        while stale and ready + len(stale) > self.target:
            actions.append(self._retire(stale.pop(0), now))
        starting = any(not c.ready for c in current)
        wanted = self.target - len(current) - len(stale)
        if stale and not starting:
            wanted = max(wanted, 1)
        if wanted > 0 and now >= self.respawn_at:
            actions += [Spawn()] * wanted
        return actions

    def wake_at(self, now: float) -> float | None:
        """The next time :meth:`decide` has something to do without any event, if any."""
        times = [
            c.retired_at + self.drain_limit
            for c in self.children.values()
            if c.retired_at is not None and not c.killed
        ]
        if not self.stopping and self.respawn_at > now:
            times.append(self.respawn_at)
        return min(times) if times else None

    def _retire(self, child: Child, now: float) -> Terminate:
        child.retired_at = now
        return Terminate(child.pid)

    def _overdue_kills(self, now: float) -> list[Kill]:
        kills = []
        for child in self.children.values():
            due = child.retired_at is not None and now >= child.retired_at + self.drain_limit
            if due and not child.killed:
                child.killed = True
                kills.append(Kill(child.pid))
        return kills


def _age(child: Child) -> float:
    return child.started


__all__ = ["Action", "Child", "Exit", "Kill", "Roster", "Spawn", "Terminate"]
