"""System checks for a ``ChannelLayerBackend`` (run by ``manage.py check``)."""

from __future__ import annotations

from typing import Protocol

from django.apps import apps
from django.conf import settings
from django.core import checks

__all__ = ["check_backend"]


class _Configured(Protocol):
    alias: str
    channel_layer_alias: str
    result_database: str | None


def check_backend(backend: _Configured) -> list[checks.CheckMessage]:
    where = f"TASKS[{backend.alias!r}]"
    found: list[checks.CheckMessage] = []
    layers = getattr(settings, "CHANNEL_LAYERS", {}) or {}
    if backend.channel_layer_alias not in layers:
        found.append(
            checks.Error(
                f"{where} sends on channel layer {backend.channel_layer_alias!r}, "
                f"but CHANNEL_LAYERS has only {sorted(layers)}",
                hint="Add the layer to CHANNEL_LAYERS or set OPTIONS['CHANNEL_LAYER'].",
                id="channels.tasks.E001",
            )
        )
    database = backend.result_database
    if database is not None and not apps.is_installed("channels.tasks"):
        found.append(
            checks.Error(
                f"{where} stores results, but 'channels.tasks' is not in INSTALLED_APPS",
                hint="Add 'channels.tasks' to INSTALLED_APPS and run migrate.",
                id="channels.tasks.E002",
            )
        )
    if database is not None and database not in settings.DATABASES:
        found.append(
            checks.Error(
                f"{where} stores results in database {database!r}, "
                f"but DATABASES has only {sorted(settings.DATABASES)}",
                id="channels.tasks.E003",
            )
        )
    if not apps.is_installed("channels.delay"):
        found.append(
            checks.Warning(
                f"{where}: tasks with run_after need the delay server, "
                "but 'channels.delay' is not in INSTALLED_APPS",
                hint="Add 'channels.delay' to INSTALLED_APPS, migrate, and run manage.py rundelay.",
                id="channels.tasks.W001",
            )
        )
    return found
