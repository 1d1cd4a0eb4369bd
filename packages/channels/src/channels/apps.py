"""Django app configuration: registers the channels system checks, watches DB connections."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["ChannelsConfig"]


class ChannelsConfig(AppConfig):
    """The ``channels`` Django app: registers the system checks.

    It also starts watching database connections, so that consumers skip the
    stale-connection hop while none is open (``channels._db``).
    """

    name = "channels"
    verbose_name = "Channels"

    def ready(self) -> None:
        from django.core import checks

        from ._checks import check_asgi_application, check_channel_layers
        from ._db import open_connections

        checks.register(check_channel_layers, "channels")
        checks.register(check_asgi_application, "channels")
        open_connections.watch()
