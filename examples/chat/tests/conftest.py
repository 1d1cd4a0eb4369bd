"""Fixtures for the chat demo tests.

Run from the repository root: ``.venv/bin/pytest examples/chat/tests``. Django is
configured for ``chatsite.settings`` with the in-memory layer and throwaway SQLite
files; tests that need Redis/RabbitMQ or Chromium fail (never skip) with the command
that provides them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CHAT_DIR = Path(__file__).resolve().parent.parent
_TMP = tempfile.mkdtemp(prefix="chat-tests-")


def _load(name: str) -> ModuleType:
    # Helper modules are loaded by path under unique names: with importlib import
    # mode there is no "tests" package to import them from.
    qualified = f"_chat_demo_tests_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    spec.loader.exec_module(module)
    return module


servers = _load("_servers")
browser = _load("_browser")
wsclient = _load("_wsclient")


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "redis_layer: runs the demo on the Redis layer (asgi_redis) across two daphne processes",
        "ipc_layer: runs the demo on the IPC layer (asgi_ipc) across two daphne processes",
        "rabbitmq_layer: runs the demo on the RabbitMQ layer (asgi_rabbitmq), two processes",
        "quickstart: runs the README's documented demo command in a copy of the repository",
        "tasks: the background moderation task in a real runworker process (Django 6.0+)",
    ):
        config.addinivalue_line("markers", line)
    if str(CHAT_DIR) not in sys.path:
        sys.path.insert(0, str(CHAT_DIR))
    # The demo's settings read these; pin them so a developer's shell (say
    # CHAT_CHANNEL_LAYER=redis for a manual run) cannot change what the tests exercise.
    os.environ["DJANGO_SETTINGS_MODULE"] = "chatsite.settings"
    os.environ["CHAT_CHANNEL_LAYER"] = "memory"
    os.environ["CHAT_DB_PATH"] = os.path.join(_TMP, "db.sqlite3")
    os.environ["CHAT_TEST_DB_PATH"] = os.path.join(_TMP, "test_db.sqlite3")
    try:
        import django

        django.setup()
    except ImportError as exc:
        raise pytest.UsageError(
            f"the chat demo cannot load ({exc}); from the repository root install our "
            "packages with `.venv/bin/pip install -e packages/asgiref -e packages/daphne "
            "-e packages/channels` (never PyPI's asgiref/channels/daphne)"
        ) from exc


#: The background task needs django.tasks (Django 6.0+). Before that its tests are not
#: collected, and the header of the run says so: they are never left out silently.
HAS_DJANGO_TASKS = importlib.util.find_spec("django.tasks") is not None
collect_ignore = [] if HAS_DJANGO_TASKS else ["test_tasks_served.py"]


def pytest_report_header(config: pytest.Config) -> str:
    import django

    if HAS_DJANGO_TASKS:
        return f"chat demo: Django {django.get_version()} has django.tasks; task tests run"
    return (
        f"chat demo: Django {django.get_version()} has no django.tasks; "
        "test_tasks_served.py is not collected (test_tasking.py covers the switch)"
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def django_test_databases() -> Iterator[None]:
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    yield
    teardown_databases(old_config, verbosity=0)
    teardown_test_environment()


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names that cannot collide with other tests or other engineers' runs."""
    return lambda stem: f"{stem}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each group of server processes."""
    path = tmp_path_factory.mktemp("chatdb") / "template.sqlite3"
    servers.migrate(path)
    return path


@pytest.fixture
def daphne_servers(
    tmp_path: Path, migrated_db: Path
) -> Iterator[Callable[[Mapping[str, str]], Any]]:
    """Start ``daphne chatsite.asgi:application`` processes sharing one database.

    ``start(env, runserver=True)`` serves with ``manage.py runserver`` instead;
    ``start(env, port=p)`` reuses a port (to restart a server under open pages);
    ``start(env, worker=True)`` runs the task worker (``runworker --tasks moderation``).
    """
    db_path = tmp_path / "db.sqlite3"
    shutil.copy(migrated_db, db_path)
    started: list[Any] = []

    def start(
        layer_env: Mapping[str, str],
        *,
        runserver: bool = False,
        port: int | None = None,
        worker: bool = False,
    ) -> Any:
        if worker:
            server = servers.start_task_worker(layer_env, db_path, tmp_path)
        elif runserver:
            server = servers.start_runserver(layer_env, db_path, tmp_path)
        else:
            server = servers.start_daphne(layer_env, db_path, tmp_path, port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def redis_layer_env(unique: Callable[[str], str]) -> dict[str, str]:
    url = os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")
    servers.require_module("asgi_redis", "packages/asgi_redis")
    servers.require_service("Redis", url, 6379, servers.REDIS_START)
    return {"CHAT_CHANNEL_LAYER": "redis", "ASGI_REDIS_URL": url, "CHAT_LAYER_PREFIX": unique("ct")}


@pytest.fixture
def rabbitmq_layer_env(unique: Callable[[str], str]) -> dict[str, str]:
    url = os.environ.get("ASGI_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    servers.require_module("asgi_rabbitmq", "packages/asgi_rabbitmq")
    servers.require_service("RabbitMQ", url, 5672, servers.RABBITMQ_START)
    return {
        "CHAT_CHANNEL_LAYER": "rabbitmq",
        "ASGI_RABBITMQ_URL": url,
        "CHAT_LAYER_PREFIX": unique("ct"),
    }


@pytest.fixture
async def ipc_layer_env(unique: Callable[[str], str]) -> AsyncIterator[dict[str, str]]:
    """IPC layer settings; request it BEFORE ``daphne_servers`` so it is torn down after.

    daphne does not close the channel layer when it is stopped, so the shared-memory
    segment outlives the servers; attaching once more and closing as the last client
    unlinks it instead of leaving it in /dev/shm.
    """
    servers.require_module("asgi_ipc", "packages/asgi_ipc")
    prefix = unique("ct")
    yield {"CHAT_CHANNEL_LAYER": "ipc", "CHAT_LAYER_PREFIX": prefix}
    from asgi_ipc.core import IPCChannelLayer

    layer = IPCChannelLayer(prefix=prefix)
    await layer.flush()
    await layer.close()


@pytest.fixture
def browsers() -> Iterator[Any]:
    kit = browser.Browsers()
    yield kit
    kit.close()


@pytest.fixture
def room_scenario() -> Callable[..., None]:
    return browser.room_scenario  # type: ignore[no-any-return]


@pytest.fixture
def ws_client() -> ModuleType:
    """The ``_wsclient`` helper module: ``await ws_client.join(ws_url, room, origin=...)``."""
    return wsclient


@pytest.fixture
def servers_kit() -> ModuleType:
    """The ``_servers`` helper module (free ports, spawning, service checks)."""
    return servers


@pytest.fixture
async def flushed_layer() -> Any:
    """The default (in-memory) layer, emptied after the test so no message leaks."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert layer is not None, "CHANNEL_LAYERS has no default layer"
    yield layer
    await layer.flush()
