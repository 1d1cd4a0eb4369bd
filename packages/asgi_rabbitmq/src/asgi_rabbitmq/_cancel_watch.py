"""Hearing about consumers the broker cancelled, on every supported aiormq.

RabbitMQ sends ``Basic.Cancel`` to a consumer whose queue was deleted. aiormq 7
(aio-pika 10, Python 3.11+) reports it through
``Channel.on_consumer_cancel_callbacks``. aiormq 6 (what aio-pika 9 brings, and
the only one Python 3.10 can install) has no such hook: its only reaction to
the frame is ``channel.consumers.pop(tag, None)``. There the consumer table is
swapped for one that reports those removals.

Invariant for callers: the callback gets the consumer tag and must ignore tags
it no longer tracks, because on aiormq 6 the ``Basic.CancelOk`` answering the
layer's own ``basic_cancel`` goes through the same ``pop``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiormq.abc

__all__ = ["CancelReportingConsumers", "watch_broker_cancels"]

TagCallback = Callable[[str], None]


class CancelReportingConsumers(dict[str, Any]):
    """aiormq 6's consumer table that tells ``callbacks`` about each tag it drops."""

    def __init__(self, initial: dict[str, Any]) -> None:
        super().__init__(initial)
        self.callbacks: set[TagCallback] = set()

    def pop(self, key: str, *default: Any) -> Any:
        value = super().pop(key, *default)
        for callback in list(self.callbacks):
            callback(key)
        return value


def watch_broker_cancels(raw: aiormq.abc.AbstractChannel, callback: TagCallback) -> None:
    """Call ``callback(consumer_tag)`` when the broker cancels a consumer on ``raw``."""
    hooks = getattr(raw, "on_consumer_cancel_callbacks", None)
    if hooks is not None:
        # Idempotent for a channel seen again: one bound method per (channel, callback).
        hooks.add(_FrameAdapter(callback))
        return
    # aiormq 6's Channel.consumers is not part of its AbstractChannel.
    legacy: Any = raw
    consumers = legacy.consumers
    if not isinstance(consumers, CancelReportingConsumers):
        consumers = CancelReportingConsumers(consumers)
        legacy.consumers = consumers
    consumers.callbacks.add(callback)


class _FrameAdapter:
    """Turns aiormq 7's ``Basic.Cancel`` frame into its tag; equal per callback."""

    __slots__ = ("callback",)

    def __init__(self, callback: TagCallback) -> None:
        self.callback = callback

    def __call__(self, frame: Any) -> None:
        self.callback(getattr(frame, "consumer_tag", None) or "")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _FrameAdapter) and other.callback == self.callback

    def __hash__(self) -> int:
        return hash(self.callback)
