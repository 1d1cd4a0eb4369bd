"""The base consumers: ``AsyncConsumer`` and ``SyncConsumer``."""

from ._consumer import AsyncConsumer, SyncConsumer, get_handler_name

__all__ = ["AsyncConsumer", "SyncConsumer", "get_handler_name"]
