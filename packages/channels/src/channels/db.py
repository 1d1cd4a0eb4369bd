"""Database connection handling for consumers."""

from ._db import aclose_old_connections, database_sync_to_async

__all__ = ["aclose_old_connections", "database_sync_to_async"]
