"""Importing channels has no side effects and pulls in no backend."""

from __future__ import annotations

import subprocess
import sys

PUBLIC_MODULES = [
    "channels",
    "channels.apps",
    "channels.auth",
    "channels.checks",
    "channels.consumer",
    "channels.db",
    "channels.exceptions",
    "channels.generic.http",
    "channels.generic.websocket",
    "channels.layers",
    "channels.lifespan",
    "channels.middleware",
    "channels.routing",
    "channels.security.websocket",
    "channels.sessions",
    "channels.testing",
    "channels.utils",
    "channels.worker",
    "channels.management.commands.runworker",
    "channels.generic.multiplex",
    "channels.binding",
    "channels.delay",
    "channels.delay.apps",
    "channels.delay.management.commands.rundelay",
]

BACKENDS = [
    "asgi_redis",
    "asgi_rabbitmq",
    "asgi_ipc",
    "channels_redis",
    "redis",
    "aio_pika",
    "posix_ipc",
    "daphne",
    "twisted",
]

PROBE = """
import asyncio, importlib, signal, sys, threading
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["channels"])
django.setup()
from django.core.signals import setting_changed
threads = threading.active_count()
handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
receivers = len(setting_changed.receivers)
for name in MODULES:
    importlib.import_module(name)
loaded = sorted(m for m in BACKENDS if m in sys.modules)
assert not loaded, f"backends imported: {loaded}"
assert threading.active_count() == threads, "a thread was started at import"
assert {s: signal.getsignal(s) for s in handlers} == handlers, "signal handlers changed"
assert len(setting_changed.receivers) == receivers, "a signal receiver was connected at import"
try:
    asyncio.get_running_loop()
except RuntimeError:
    pass
else:
    raise AssertionError("an event loop is running after import")
print("clean")
"""


def test_imports_are_clean() -> None:
    code = f"MODULES = {PUBLIC_MODULES!r}\nBACKENDS = {BACKENDS!r}\n{PROBE}"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_import_channels_testing_makes_the_core_modules_attributes_of_channels() -> None:
    # Test suites call channels.routing.ProtocolTypeRouter after a plain
    # ``import channels`` once channels.testing is imported, as upstream allows.
    code = (
        "import django\n"
        "from django.conf import settings\n"
        "settings.configure(INSTALLED_APPS=['channels'])\n"
        "django.setup()\n"
        "import channels, channels.testing\n"
        "for name in ('routing', 'layers', 'db', 'consumer'):\n"
        "    getattr(channels, name)\n"
        "channels.routing.ProtocolTypeRouter({})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
