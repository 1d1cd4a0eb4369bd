"""Test helpers for ASGI applications."""

from ._testing import ApplicationCommunicator

__all__ = ["ApplicationCommunicator"]
