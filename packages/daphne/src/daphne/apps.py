"""The Django app config: ``"daphne"`` in INSTALLED_APPS overrides ``runserver``."""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks

__all__ = ["DaphneConfig"]


class DaphneConfig(AppConfig):
    """The ``daphne`` app: its ``runserver`` command replaces Django's.

    ``ready()`` registers the ``daphne.E001`` system check, an error when ``daphne`` is
    listed after ``django.contrib.staticfiles`` in INSTALLED_APPS (the later app's
    ``runserver`` would be the one Django runs).
    """

    name = "daphne"
    verbose_name = "Daphne"

    def ready(self) -> None:
        from .checks import check_daphne_installed

        checks.register(check_daphne_installed, checks.Tags.staticfiles)
