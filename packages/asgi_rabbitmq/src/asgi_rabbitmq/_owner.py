"""What a link and its consumers need from the layer that owns them, and nothing more.

The arrows point one way: ``_layer`` builds links (``_link``), a link builds its
consumers (``_consumers``), and both talk back to the layer only through
:class:`LinkOwner`, a structural type the layer satisfies without naming it. No
module below ``_layer`` imports it, not even for type checking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ._config import LayerConfig

__all__ = ["Acker", "LinkOwner"]

#: ``(release, alive)`` for a delivery from a normal channel: ``release(taken)``
#: acknowledges it, ``alive()`` says whether its connection can still do so.
Acker = tuple[Callable[[bool], None], Callable[[], bool]]


class LinkOwner(Protocol):
    """The layer, as its links see it."""

    config: LayerConfig
    #: Names this layer instance on the broker (its connections, its process queue).
    client_id: str
    #: The queue holding every process-local channel of this layer instance.
    process_queue: str

    def get_capacity(self, channel: str) -> int:
        """The queue length bound of normal channel *channel*."""
        ...

    def own_groups(self) -> list[str]:
        """Groups the process queue must be bound to (after a reconnection, say)."""
        ...

    def normal_bindings(self) -> list[tuple[str, str]]:
        """``(group, normal channel)`` bindings this layer made and must restore."""
        ...

    def remember_normal_queue(self, name: str) -> None:
        """A normal channel's queue was declared (``flush`` deletes it later)."""
        ...

    def mismatch_error(self, channel: str, exc: Exception) -> Exception:
        """The error for a normal channel's queue declared elsewhere with other arguments."""
        ...

    def on_process_message(self, body: bytes) -> None:
        """A delivery from the process queue (acknowledged right after this returns)."""
        ...

    def on_normal_message(self, channel: str, body: bytes, acker: Acker) -> None:
        """A delivery from normal channel *channel*, acknowledged through *acker*."""
        ...
