"""System checks for ``CHANNEL_LAYERS`` and ``ASGI_APPLICATION`` (registered by the app)."""

from ._checks import check_asgi_application, check_channel_layers

__all__ = ["check_asgi_application", "check_channel_layers"]
