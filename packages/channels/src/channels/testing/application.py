"""``ApplicationCommunicator`` (asgiref's) under its upstream module path."""

from asgiref.testing import ApplicationCommunicator

__all__ = ["ApplicationCommunicator"]
