"""The async HTTP consumer (long-poll, server-sent events, small endpoints)."""

from ._http import AsyncHttpConsumer

__all__ = ["AsyncHttpConsumer"]
