"""Django app configuration: registers the channels system checks."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["ChannelsConfig"]


class ChannelsConfig(AppConfig):
    """The ``channels`` Django app: registers the system checks."""

    name = "channels"
    verbose_name = "Channels"

    def ready(self) -> None:
        from django.core import checks

        from ._checks import check_asgi_application, check_channel_layers

        checks.register(check_channel_layers, "channels")
        checks.register(check_asgi_application, "channels")
