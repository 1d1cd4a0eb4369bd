"""An executor that runs work in the thread waiting on it (used by ``async_to_sync``)."""

from ._current_thread_executor import CurrentThreadExecutor

__all__ = ["CurrentThreadExecutor"]
