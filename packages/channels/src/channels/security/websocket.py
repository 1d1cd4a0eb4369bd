"""Origin validation for WebSocket connections."""

from ._origin import AllowedHostsOriginValidator, OriginValidator, WebsocketDenier

__all__ = ["AllowedHostsOriginValidator", "OriginValidator", "WebsocketDenier"]
