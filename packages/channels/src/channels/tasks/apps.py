"""Django app for the task result store (add ``"channels.tasks"`` to INSTALLED_APPS)."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["TasksConfig"]


class TasksConfig(AppConfig):
    """The tasks backend's Django app (``channels.tasks``, label ``channels_tasks``)."""

    name = "channels.tasks"
    label = "channels_tasks"
    verbose_name = "Channels tasks"
    default_auto_field = "django.db.models.BigAutoField"
