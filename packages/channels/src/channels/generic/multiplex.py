"""Multiplexing: several logical JSON streams over one WebSocket."""

from ._multiplex import AsyncJsonWebsocketDemultiplexer

__all__ = ["AsyncJsonWebsocketDemultiplexer"]
