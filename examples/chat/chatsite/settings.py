"""Settings for the chat demo.

This is a development demo: DEBUG is on and the secret key is a fixed development
value unless the environment says otherwise. Every knob is an environment variable so
that tests and a second server process can run side by side without editing files:

``CHAT_CHANNEL_LAYER`` (see :mod:`chatsite.layers`), ``CHAT_TASKS`` (see
:mod:`chatsite.tasking`), ``CHAT_DEBUG`` (``1``/``0``),
``CHAT_SECRET_KEY``, ``CHAT_ALLOWED_HOSTS`` (comma-separated), ``CHAT_DB_PATH`` and
``CHAT_TEST_DB_PATH`` (SQLite files).
"""

from __future__ import annotations

import os
from pathlib import Path

import django
from django.core.exceptions import ImproperlyConfigured

from chatsite.layers import channel_layers_from_env
from chatsite.tasking import decide

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("CHAT_DEBUG", "1").strip().lower() not in {"0", "false", "no", "off"}

SECRET_KEY = os.environ.get("CHAT_SECRET_KEY") or (
    "django-insecure-chat-demo-only-never-use-this-key-in-production"
)

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("CHAT_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's, serving HTTP and WebSocket.
    "daphne",
    "chat",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "chatsite.asgi.application"

try:
    CHANNEL_LAYERS = channel_layers_from_env(os.environ)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

# The background moderation check (chatsite/tasking.py): on with Django 6.0+ and a layer
# that crosses processes. The consumer reads CHAT_MODERATION to enqueue the check;
# scripts/demo reads both to start the task worker or to say why it does not.
try:
    _moderation = decide(os.environ, django_version=django.VERSION[:2])
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc
CHAT_MODERATION = _moderation.on
CHAT_MODERATION_WHY = _moderation.why
if _moderation.tasks is not None:
    TASKS = _moderation.tasks
    # "channels" brings `manage.py runworker`, which runs the tasks.
    INSTALLED_APPS.append("channels")
    # The chat never defers a task (run_after), so it runs no delay server.
    SILENCED_SYSTEM_CHECKS = ["channels.tasks.W001"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("CHAT_DB_PATH") or BASE_DIR / "db.sqlite3",
        # A file, not ":memory:": the live-server test serves from a separate process,
        # which must see the rows the test created.
        "TEST": {"NAME": os.environ.get("CHAT_TEST_DB_PATH") or BASE_DIR / "test_db.sqlite3"},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_REDIRECT_URL = "chat:index"
LOGOUT_REDIRECT_URL = "chat:index"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
