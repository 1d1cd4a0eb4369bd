"""One client connection's routing state inside the gateway (pure).

Phases: ``UNASSIGNED`` (waiting for a live worker), ``ASSIGNED`` (one worker
owns it: client events go straight there), ``MOVING`` (handed back or its
worker died: client events wait in an ordered buffer), ``CLOSED``.

Invariants:

* A connection has at most one owner; ``epoch`` counts assignments, and only
  the owner's current epoch (plus, while moving, the epoch being released)
  may write to the client.
* Events that arrive while the connection moves are kept in arrival order,
  at most ``buffer_limit`` of them; one more is an overflow, and the gateway
  closes the socket with 1013 (Try Again Later).
* On a resumed assignment the worker's ``websocket.accept`` is swallowed
  once: the client's handshake finished long ago.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BufferOverflow", "ConnectionState", "Phase"]


class Phase(enum.Enum):
    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    MOVING = "moving"
    CLOSED = "closed"


class BufferOverflow(Exception):
    """More client events arrived during a move than the buffer holds."""


@dataclass
class ConnectionState:
    conn: str
    kind: str
    buffer_limit: int
    phase: Phase = Phase.UNASSIGNED
    owner: str | None = None
    epoch: int = 0
    releasing_epoch: int | None = None
    connect_seen: bool = False
    accepted: bool = False
    response_started: bool = False
    swallow_accept: bool = False
    client_gone: bool = False
    buffer: deque[dict[str, Any]] = field(default_factory=deque)

    def assign(self, worker: str, *, resumed: bool) -> int:
        """Give the connection to *worker*; return the new epoch."""
        if self.phase is Phase.CLOSED:
            raise RuntimeError(f"connection {self.conn} is closed; cannot assign it to {worker}")
        self.phase = Phase.ASSIGNED
        self.owner = worker
        self.epoch += 1
        self.releasing_epoch = None
        self.swallow_accept = resumed
        return self.epoch

    def start_move(self) -> None:
        """The owner is handing back or gone: buffer from now on."""
        if self.phase is not Phase.ASSIGNED:
            raise RuntimeError(f"connection {self.conn} cannot move while {self.phase.value}")
        self.phase = Phase.MOVING
        self.releasing_epoch = self.epoch

    def take_buffer(self) -> list[dict[str, Any]]:
        events = list(self.buffer)
        self.buffer.clear()
        return events

    def client_event(self, event: dict[str, Any]) -> bool:
        """Note a client event; return True to forward it now, False if buffered."""
        kind = event.get("type")
        if kind == "websocket.connect":
            self.connect_seen = True
        elif kind in ("websocket.disconnect", "http.disconnect"):
            self.client_gone = True
        if self.phase is Phase.ASSIGNED:
            return True
        if len(self.buffer) >= self.buffer_limit:
            raise BufferOverflow(
                f"connection {self.conn}: more than {self.buffer_limit} client events "
                f"arrived while it moved between workers"
            )
        self.buffer.append(event)
        return False

    def accepts_from(self, epoch: int) -> bool:
        if self.phase is Phase.CLOSED:
            return False
        return epoch == self.epoch or epoch == self.releasing_epoch

    def worker_event(self, epoch: int, event: dict[str, Any]) -> bool:
        """Note a worker's send; return True to write it to the client."""
        if not self.accepts_from(epoch):
            return False
        kind = event.get("type")
        if kind == "websocket.accept":
            if self.swallow_accept or self.accepted:
                self.swallow_accept = False
                return False
            self.accepted = True
        elif kind == "websocket.close" and epoch == self.releasing_epoch:
            # The released instance does not get to close a socket that lives on.
            return False
        elif kind == "websocket.send":
            self.accepted = True  # servers accept implicitly on the first send
        elif kind == "http.response.start":
            self.response_started = True
        return True
