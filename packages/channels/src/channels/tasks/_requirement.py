"""The one check that Django has ``django.tasks`` (added in Django 6.0).

Every module of ``channels.tasks`` that imports ``django.tasks`` calls
:func:`require_django_tasks` first, so the error a user sees on an older
Django names the requirement instead of "No module named 'django.tasks'".
"""

from __future__ import annotations

import django

__all__ = ["MINIMUM_DJANGO", "require_django_tasks"]

#: The first Django release with the Tasks framework.
MINIMUM_DJANGO = (6, 0)


def require_django_tasks(version: tuple[int, ...] | None = None) -> None:
    """Raise ImportError saying what is needed when Django predates ``django.tasks``."""
    found = tuple(django.VERSION[:2]) if version is None else tuple(version[:2])
    if found >= MINIMUM_DJANGO:
        return
    wanted = ".".join(map(str, MINIMUM_DJANGO))
    raise ImportError(
        f"channels.tasks needs Django {wanted} or later, which added django.tasks; "
        f"Django {'.'.join(map(str, found))} is installed. "
        f"Upgrade with: pip install 'Django>={wanted}'"
    )
