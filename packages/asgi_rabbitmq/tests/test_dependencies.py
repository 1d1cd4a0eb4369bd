"""Importing the package pulls in no sibling backend, no Django, and starts nothing."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
#: Import name -> distribution name, for the imports that differ.
DISTRIBUTIONS = {"aio_pika": "aio-pika"}


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


def _imported_top_levels() -> set[str]:
    found: set[str] = set()
    for path in (PACKAGE / "src" / "asgi_rabbitmq").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_every_third_party_import_is_a_declared_dependency() -> None:
    text = (PACKAGE / "pyproject.toml").read_text(encoding="utf-8")
    block = text.split("\ndependencies = [", 1)[1].split("]", 1)[0]
    declared = set(re.findall(r'"([A-Za-z0-9_.-]+)', block))
    third_party = {
        name
        for name in _imported_top_levels()
        if name not in sys.stdlib_module_names and name not in ("asgi_rabbitmq", "__future__")
    }
    missing = sorted(n for n in third_party if DISTRIBUTIONS.get(n, n) not in declared)
    assert not missing, f"imported but not in pyproject.toml's dependencies: {missing}"
