"""Errors specific to the Redis layers (the shared ones live in ``asgiref.layers``)."""

from __future__ import annotations

from asgiref.layers import InvalidChannelName, InvalidMessage

__all__ = ["ChannelNotOwned", "MessageDecryptionError"]


class MessageDecryptionError(InvalidMessage):
    """A received message could not be decrypted with any configured key.

    Raised by ``receive()`` for that one message; the layer keeps serving and
    the next ``receive()`` returns the next message.
    """


class ChannelNotOwned(InvalidChannelName, AssertionError):
    """``receive()`` was asked for a process-local channel of another layer instance.

    Only the instance whose ``new_channel()`` made a name receives on it. Also an
    ``AssertionError``, which is what channels_redis raised here.
    """
