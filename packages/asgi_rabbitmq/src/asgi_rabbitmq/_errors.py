"""Errors specific to the RabbitMQ layer (the general ones come from asgiref.layers)."""

from __future__ import annotations

from asgiref.layers import InvalidChannelName

__all__ = ["BrokerUnavailable", "ChannelNotOwned"]


class BrokerUnavailable(ConnectionError):
    """RabbitMQ could not be reached, or stayed unreachable longer than ``expiry``."""


class ChannelNotOwned(InvalidChannelName, AssertionError):
    """``receive()`` was asked for a process-local channel this instance did not make.

    Also an ``AssertionError``, which is what channels_rabbitmq raised here.
    """
