"""Exceptions raised by consumers, routing and channel layers."""

from __future__ import annotations

from asgiref.layers import ChannelFull, InvalidChannelLayerError, MessageTooLarge

__all__ = [
    "AcceptConnection",
    "ChannelFull",
    "DenyConnection",
    "InvalidChannelLayerError",
    "MessageTooLarge",
    "RequestAborted",
    "RequestTimeout",
    "StopConsumer",
]


class RequestAborted(Exception):
    """The client went away while its request body was being read."""


class RequestTimeout(RequestAborted):
    """Reading the request body took too long."""


class AcceptConnection(Exception):
    """Raised in ``connect()`` to accept the WebSocket."""


class DenyConnection(Exception):
    """Raised in ``connect()`` to refuse the WebSocket (it is closed before accept)."""


class StopConsumer(Exception):
    """Raised in a handler to end the consumer cleanly; the server is told nothing."""
