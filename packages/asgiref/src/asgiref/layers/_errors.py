"""Exceptions raised by channel layers.

Name and message errors subclass ``TypeError`` because upstream Channels raised
``TypeError`` for them; code that catches ``TypeError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "ChannelFull",
    "InvalidChannelLayerError",
    "InvalidChannelName",
    "InvalidGroupName",
    "InvalidMessage",
    "MessageTooLarge",
]


class ChannelFull(Exception):
    """``send`` found the destination channel at its capacity."""


class InvalidChannelLayerError(ValueError):
    """A channel layer is misconfigured or cannot be built from its configuration."""


class InvalidChannelName(TypeError):
    """A channel name breaks the naming rules."""


class InvalidGroupName(TypeError):
    """A group name breaks the naming rules."""


class InvalidMessage(TypeError):
    """A message is not a dict of str keys and serializable values."""


class MessageTooLarge(ValueError):
    """A serialized message is larger than the layer accepts."""
