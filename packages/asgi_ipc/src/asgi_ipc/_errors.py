"""Errors specific to the shared-memory layer."""

from __future__ import annotations

from asgiref.layers import ChannelFull

__all__ = ["LockTimeout", "SharedMemoryFull"]


class SharedMemoryFull(ChannelFull):
    """A shared segment has no room left (messages, channels, groups or the undo log).

    It subclasses :class:`~asgiref.layers.ChannelFull` so code that already
    backs off on a full channel handles it the same way.
    """


class LockTimeout(TimeoutError):
    """The segment lock stayed held by a live process for longer than ``lock_timeout``."""
