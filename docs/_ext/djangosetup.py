"""Configure a minimal Django before autodoc imports channels and daphne.

``channels.auth``, ``channels.sessions`` and the management commands import Django models,
which need settings and a populated app registry. The settings here are the least that
lets every public module import; nothing is served and no database is touched.
"""

from __future__ import annotations

from typing import Any


def configure() -> None:
    """Configure settings (once) and populate Django's app registry."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            SECRET_KEY="docs-build-only",
            INSTALLED_APPS=[
                "django.contrib.auth",
                "django.contrib.contenttypes",
                "django.contrib.sessions",
                "channels",
                "daphne",
            ],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
            USE_TZ=True,
        )
    django.setup()


def setup(app: Any) -> dict[str, Any]:
    configure()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
