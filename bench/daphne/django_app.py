"""A one-file Django project for the server benchmarks: an async and a sync view.

Served as ``django_app:application`` from this directory. The middleware is
``startproject``'s default stack; the views touch neither the session nor the database, so
what is measured is Django's request path plus the server under it.
"""

import django
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    SECRET_KEY="bench-only-not-secret",
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
    ],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    USE_TZ=True,
    LOGGING_CONFIG=None,
)
django.setup(set_prefix=False)


async def async_view(request):
    return HttpResponse(b"Hello, world!", content_type="text/plain")


def sync_view(request):
    return HttpResponse(b"Hello, world!", content_type="text/plain")


urlpatterns = [path("async", async_view), path("sync", sync_view)]

from django.core.asgi import get_asgi_application  # noqa: E402  (after settings)

application = get_asgi_application()
