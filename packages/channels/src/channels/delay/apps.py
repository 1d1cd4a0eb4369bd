"""Django app for the delay server's storage."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["DelayConfig"]


class DelayConfig(AppConfig):
    """The delay server's Django app (``channels.delay``, label ``channels_delay``)."""

    name = "channels.delay"
    label = "channels_delay"
    verbose_name = "Channels delay server"
    default_auto_field = "django.db.models.BigAutoField"
