"""Django settings for the channels test suite (also used by spawned servers/workers)."""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = "channels-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1", ".example.com"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "channels",
    "channels.delay",
    "channels_tests_binding",
]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "channels_tests_app"
_DB = os.environ.get("CHANNELS_TEST_DB", str(HERE / ".channels-test.sqlite3"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _DB,
        "TEST": {"NAME": _DB},
    }
}
CHANNEL_LAYERS = {
    "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    # runworker subprocess tests: an in-memory layer pre-loaded from a JSON file.
    "seeded": {"BACKEND": "channels_tests_app.SeededLayer"},
}
ASGI_APPLICATION = "channels_tests_app.application"
STATIC_URL = "/static/"
STATICFILES_DIRS = [str(HERE / "static")]
USE_TZ = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
