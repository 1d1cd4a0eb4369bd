"""Errors specific to the Redis layers (the shared ones live in ``asgiref.layers``)."""

from __future__ import annotations

from asgiref.layers import InvalidMessage

__all__ = ["MessageDecryptionError"]


class MessageDecryptionError(InvalidMessage):
    """A received message could not be decrypted with any configured key.

    Raised by ``receive()`` for that one message; the layer keeps serving and
    the next ``receive()`` returns the next message.
    """
