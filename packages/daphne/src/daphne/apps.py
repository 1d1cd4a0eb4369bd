"""The Django app config: ``"daphne"`` in INSTALLED_APPS overrides ``runserver``."""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks

__all__ = ["DaphneConfig"]


class DaphneConfig(AppConfig):
    name = "daphne"
    verbose_name = "Daphne"

    def ready(self) -> None:
        from .checks import check_daphne_installed

        checks.register(check_daphne_installed, checks.Tags.staticfiles)
