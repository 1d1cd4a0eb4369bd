"""System checks for the Django integration."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error

__all__ = ["check_daphne_installed"]


def check_daphne_installed(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """daphne must come before staticfiles, or staticfiles' ``runserver`` wins."""
    from django.apps import apps

    names = [config.name for config in apps.get_app_configs()]
    staticfiles = "django.contrib.staticfiles"
    if staticfiles in names and names.index("daphne") > names.index(staticfiles):
        return [
            Error(
                "Daphne must be listed before django.contrib.staticfiles in INSTALLED_APPS.",
                hint=f"Move 'daphne' above {staticfiles!r}; INSTALLED_APPS order is {names}.",
                id="daphne.E001",
            )
        ]
    return []
