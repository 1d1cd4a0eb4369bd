"""Which workers are alive, as one gateway sees them (pure: time is passed in).

A worker is *live* when its last heartbeat is at most ``stale_after`` seconds
old and it has not said it is leaving. A leaving worker still counts as
present (it is draining, its HTTP requests finish there) but takes nothing
new. A worker whose heartbeats stop is *stale*: the gateway resumes its
connections elsewhere. The bound on noticing a crash is therefore
``stale_after`` plus one check interval.

Picking is least-connections over the live workers, counting the
connections this gateway assigned (other gateways' load is not known here;
a worker's own count would arrive a heartbeat late). Ties go round-robin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["WorkerRegistry"]


@dataclass
class _Worker:
    last_seen: float
    leaving: bool = False
    assigned: int = 0


@dataclass
class WorkerRegistry:
    stale_after: float
    _workers: dict[str, _Worker] = field(default_factory=dict)
    _turn: int = 0

    def __post_init__(self) -> None:
        if self.stale_after <= 0:
            raise ValueError(f"stale_after must be positive seconds, got {self.stale_after!r}")

    def heartbeat(self, worker: str, now: float, *, leaving: bool = False) -> bool:
        """Record a heartbeat; return True when *worker* just became live."""
        known = self._workers.get(worker)
        if known is None:
            self._workers[worker] = _Worker(last_seen=now, leaving=leaving)
            return not leaving
        known.last_seen = now
        # Leaving is final: a late heartbeat sent before the leave must not undo it.
        known.leaving = known.leaving or leaving
        return False

    def leaving(self, worker: str, now: float) -> None:
        self.heartbeat(worker, now, leaving=True)

    def forget(self, worker: str) -> None:
        self._workers.pop(worker, None)

    def is_live(self, worker: str, now: float) -> bool:
        known = self._workers.get(worker)
        return known is not None and not known.leaving and now - known.last_seen <= self.stale_after

    def is_present(self, worker: str, now: float) -> bool:
        """Live or draining: its connections stay where they are."""
        known = self._workers.get(worker)
        return known is not None and now - known.last_seen <= self.stale_after

    def stale(self, now: float) -> list[str]:
        """Workers whose heartbeats stopped; they are forgotten by the caller."""
        return [name for name, w in self._workers.items() if now - w.last_seen > self.stale_after]

    def pick(self, now: float, exclude: frozenset[str] = frozenset()) -> str | None:
        """The live worker with the fewest connections from this gateway, or None."""
        live = sorted(
            name for name in self._workers if name not in exclude and self.is_live(name, now)
        )
        if not live:
            return None
        self._turn += 1
        fewest = min(self._workers[name].assigned for name in live)
        candidates = [name for name in live if self._workers[name].assigned == fewest]
        return candidates[self._turn % len(candidates)]

    def assigned(self, worker: str, delta: int) -> None:
        known = self._workers.get(worker)
        if known is not None:
            known.assigned = max(0, known.assigned + delta)
