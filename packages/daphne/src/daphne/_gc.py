"""The garbage collector, set up for a long-running server (``--gc-threshold``).

CPython runs a full collection whenever the objects promoted to its oldest generation since
the last one reach a quarter of that generation. A server with many open connections holds
hundreds of thousands of tracked objects (each WebSocket has its transport, protocol,
consumer, tasks, futures and coroutines), and every message replaces some of them: with
CPython's first threshold (700 allocations) the objects in flight are promoted again and
again, and full collections of 75-140 ms ran every one to two seconds in a 1,000-socket chat
room (``bench/chat_broadcast.py``), each one a stall for every socket.

Two changes, made once when the server starts serving:

* the first generation's threshold goes up (10,000 by default), so that the short-lived
  objects of a message are mostly freed by reference counting before any collection sees
  them, and far fewer are promoted;
* ``gc.freeze()`` moves everything that exists at that moment (modules, classes, the loaded
  application, the lifespan's resources) to the permanent generation, which collections
  skip; a ``gc.collect()`` first frees the start-up garbage instead of freezing it.

An application that set its own thresholds keeps them, a process whose objects are already
frozen is not frozen again, and a disabled collector stays disabled.
"""

from __future__ import annotations

import dataclasses
import gc

#: CPython's own thresholds (3.10-3.12: 700; 3.13: 2,000). Anything else was chosen by the
#: application, which then keeps its choice.
INTERPRETER_DEFAULTS = frozenset({(700, 10, 10), (2000, 10, 10)})

#: ``--gc-threshold``'s default: the first generation's threshold while serving.
DEFAULT_GEN0_THRESHOLD = 10_000


@dataclasses.dataclass(frozen=True)
class Tuning:
    """What :func:`tune_for_serving` did."""

    thresholds: tuple[int, int, int]
    raised: bool
    frozen: int

    def describe(self) -> str:
        kept = "set to" if self.raised else "kept at"
        return (
            f"garbage collector thresholds {kept} {self.thresholds}, {self.frozen} objects frozen"
        )


def tune_for_serving(gen0_threshold: int) -> Tuning | None:
    """Raise the first threshold to *gen0_threshold* and freeze what exists; see the module.

    Returns None, touching nothing, when *gen0_threshold* is 0 or the collector is disabled.
    """
    if gen0_threshold < 0:
        raise ValueError(f"expected a gc threshold of at least 0, got {gen0_threshold}")
    if gen0_threshold == 0 or not gc.isenabled():
        return None
    current = gc.get_threshold()
    raised = current in INTERPRETER_DEFAULTS and current[0] < gen0_threshold
    if raised:
        gc.set_threshold(gen0_threshold, current[1], current[2])
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
    return Tuning(gc.get_threshold(), raised, gc.get_freeze_count())


__all__ = ["DEFAULT_GEN0_THRESHOLD", "INTERPRETER_DEFAULTS", "Tuning", "tune_for_serving"]
