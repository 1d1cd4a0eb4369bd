"""Generic consumers for WebSocket and HTTP."""

__all__: list[str] = []
