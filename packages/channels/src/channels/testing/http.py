"""``HttpCommunicator`` under its upstream module path."""

from ._communicators import HttpCommunicator

__all__ = ["HttpCommunicator"]
