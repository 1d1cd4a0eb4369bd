"""Importing the package pulls in no sibling backend, no Django, and starts nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_import_has_no_side_effects_and_no_forbidden_dependencies() -> None:
    code = textwrap.dedent(
        """
        import asyncio, pkgutil, sys, threading, warnings
        warnings.simplefilter("error")
        before = threading.active_count()
        import asgi_rabbitmq
        for module in pkgutil.walk_packages(asgi_rabbitmq.__path__, "asgi_rabbitmq."):
            __import__(module.name)
        forbidden = ("django", "channels", "daphne", "asgi_redis", "asgi_ipc")
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in forbidden)
        assert not leaked, leaked
        assert threading.active_count() == before, "a thread was started at import"
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise AssertionError("an event loop is running after import")
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
