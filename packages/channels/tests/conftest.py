"""Test configuration for channels: Django settings, a file database, fresh layers.

The settings module and the tutorial app live next to this file; the
directory goes on sys.path (spawned children inherit it) and the database
is a file in a per-run temporary directory so that threads and child
processes (the live server, runworker) all see the same data.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "django_db: needs the migrated test database")
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "channels_tests_settings"
    if "CHANNELS_TEST_DB" not in os.environ:
        directory = tempfile.mkdtemp(prefix="channels-tests-")
        os.environ["CHANNELS_TEST_DB"] = os.path.join(directory, "db.sqlite3")
    import django

    django.setup()


@pytest.fixture(scope="session")
def _migrated() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


@pytest.fixture
def db(_migrated: None) -> Iterator[None]:
    """The migrated database, emptied of users and sessions after the test."""
    yield
    from django.contrib.auth.models import User
    from django.contrib.sessions.models import Session

    User.objects.all().delete()
    Session.objects.all().delete()


@pytest.fixture(autouse=True)
def _fresh_layers() -> Iterator[None]:
    from channels.layers import channel_layers

    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture
def make_user(db: None) -> Any:
    from django.contrib.auth.models import User

    def make(username: str = "alice", password: str = "pw") -> User:
        return User.objects.create_user(username=username, password=password)

    return make


@pytest.fixture
def redis_process_setup() -> Any:
    """For tests that run a second process through Redis: fail (never skip) without Redis.

    Returns ``setup(stem) -> (layer_config, env)``: a Redis layer config with a fresh
    prefix, and the environment that makes a child ``django`` process use the same layer.
    """
    import importlib.util
    import secrets
    import socket
    from urllib.parse import urlsplit

    url = os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")
    if importlib.util.find_spec("asgi_redis") is None:
        pytest.fail("asgi_redis is not installed: pip install -e packages/asgi_redis")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 5).close()
    except OSError as exc:
        pytest.fail(
            f"Redis is not reachable at {url} ({exc}); start it with: redis-server "
            f"--daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no"
        )

    def setup(stem: str) -> tuple[dict[str, Any], dict[str, str]]:
        from channels_tests_redis_settings import REDIS_LAYER

        prefix = f"{stem}-{secrets.token_hex(4)}"
        layer_config: dict[str, Any] = {**REDIS_LAYER, "CONFIG": {**REDIS_LAYER["CONFIG"]}}
        layer_config["CONFIG"]["prefix"] = prefix
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="channels_tests_redis_settings",
            CHANNELS_TEST_REDIS_PREFIX=prefix,
            PYTHONUNBUFFERED="1",
        )
        return layer_config, env

    return setup
