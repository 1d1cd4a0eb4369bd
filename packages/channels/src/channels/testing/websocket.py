"""``WebsocketCommunicator`` under its upstream module path."""

from ._communicators import WebsocketCommunicator

__all__ = ["WebsocketCommunicator"]
