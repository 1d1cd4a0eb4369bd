"""Errors specific to the RabbitMQ layer (the general ones come from asgiref.layers)."""

from __future__ import annotations

__all__ = ["BrokerUnavailable"]


class BrokerUnavailable(ConnectionError):
    """RabbitMQ could not be reached, or stayed unreachable longer than ``expiry``."""
