"""Real servers for the chat tests: daphne subprocesses and broker checks.

Loaded by path from conftest.py (the tests run with ``--import-mode=importlib``, so
test modules never import each other); test modules reach it through fixtures.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHAT_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = CHAT_DIR.parent.parent

#: How long a server may take to answer its first request. A start-up deadline, not
#: a speed assertion: it only turns a hung start into a failure with the log attached.
STARTUP_DEADLINE = 90.0

REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
RABBITMQ_START = "rabbitmq-server -detached"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int, how_to_start: str) -> None:
    """Fail (never skip) when a broker the test needs is not answering."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    if not port_open(host, port):
        pytest.fail(
            f"{name} is not answering on {host}:{port} (from {url}); this test needs it. "
            f"Start it with: {how_to_start}",
            pytrace=False,
        )


def require_module(module: str, package_dir: str) -> None:
    try:
        __import__(module)
    except ImportError as exc:
        pytest.fail(
            f"{module} is not importable ({exc}); install it with "
            f"`.venv/bin/pip install -e {package_dir}` from the repository root",
            pytrace=False,
        )


def subprocess_env(overrides: Mapping[str, str], *, chat_on_path: bool = True) -> dict[str, str]:
    """This process's environment plus ``overrides``.

    ``chat_on_path=False`` leaves PYTHONPATH alone, for commands documented to be run
    from examples/chat as they are (``daphne`` must find ``chatsite`` by itself).
    """
    env = dict(os.environ)
    if chat_on_path:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(CHAT_DIR), env.get("PYTHONPATH", "")) if p
        )
    env["DJANGO_SETTINGS_MODULE"] = "chatsite.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def migrate(db_path: Path) -> None:
    """Create a migrated SQLite database at ``db_path`` with ``manage.py migrate``."""
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=CHAT_DIR,
        env=subprocess_env({"CHAT_DB_PATH": str(db_path)}),
        capture_output=True,
        text=True,
        timeout=STARTUP_DEADLINE,
    )
    if result.returncode != 0:
        pytest.fail(f"manage.py migrate failed:\n{result.stdout}\n{result.stderr}", pytrace=False)


def daphne_command() -> list[str]:
    """The ``daphne`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("daphne")
    if script.exists():
        return [str(script)]
    found = shutil.which("daphne")
    if found is None:
        pytest.fail(
            "the `daphne` command is not installed; run "
            "`.venv/bin/pip install -e packages/daphne` from the repository root",
            pytrace=False,
        )
    return [found]


@dataclass
class ServedProcess:
    """A server process started in its own session so the whole tree can be stopped."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    host: str = "127.0.0.1"
    stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_serving(self, path: str = "/", within: float = STARTUP_DEADLINE) -> None:
        deadline = time.monotonic() + within
        last_error = "no attempt yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"server exited with code {self.process.returncode} before serving "
                    f"{self.url}{path}; its log:\n{self.log()}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as response:
                    if response.status == 200:
                        return
                    last_error = f"HTTP {response.status}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = repr(exc)
            time.sleep(0.2)
        self.stop()
        pytest.fail(
            f"server did not serve {self.url}{path} within {within:.0f}s "
            f"(last error: {last_error}); its log:\n{self.log()}",
            pytrace=False,
        )

    def wait_for_log(self, text: str, within: float = STARTUP_DEADLINE) -> None:
        """Wait until the process has logged *text* (a worker has no port to poll)."""
        deadline = time.monotonic() + within
        while text not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(
                    f"process {self.process.args!r} never logged {text!r} (exit code "
                    f"{self.process.returncode}); its log:\n{self.log()}",
                    pytrace=False,
                )
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def spawn(
    argv: list[str], *, cwd: Path, env: Mapping[str, str], port: int, log_path: Path
) -> ServedProcess:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return ServedProcess(process=process, port=port, log_path=log_path)


def start_daphne(
    layer_env: Mapping[str, str], db_path: Path, log_dir: Path, port: int | None = None
) -> ServedProcess:
    """Serve ``chatsite.asgi:application`` with the ``daphne`` command (on a free port)."""
    port = port or free_port()
    env = subprocess_env({"CHAT_DB_PATH": str(db_path), **layer_env}, chat_on_path=False)
    argv = [*daphne_command(), "-b", "127.0.0.1", "-p", str(port), "chatsite.asgi:application"]
    log_path = log_dir / f"daphne-{port}-{time.monotonic_ns()}.log"
    server = spawn(argv, cwd=CHAT_DIR, env=env, port=port, log_path=log_path)
    server.wait_until_serving()
    return server


def start_runserver(layer_env: Mapping[str, str], db_path: Path, log_dir: Path) -> ServedProcess:
    """Serve with ``manage.py runserver`` (daphne's, as "daphne" is in INSTALLED_APPS)."""
    port = free_port()
    env = subprocess_env({"CHAT_DB_PATH": str(db_path), **layer_env}, chat_on_path=False)
    argv = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    log_path = log_dir / f"runserver-{port}.log"
    server = spawn(argv, cwd=CHAT_DIR, env=env, port=port, log_path=log_path)
    server.wait_until_serving()
    return server


#: What ``runworker --tasks`` logs once it listens on its queue channels.
WORKER_READY = "Running tasks from queues"


def start_task_worker(layer_env: Mapping[str, str], db_path: Path, log_dir: Path) -> ServedProcess:
    """Run ``manage.py runworker --tasks moderation``, as scripts/demo does, until it listens."""
    env = subprocess_env({"CHAT_DB_PATH": str(db_path), **layer_env}, chat_on_path=False)
    argv = [sys.executable, "manage.py", "runworker", "--tasks", "moderation"]
    log_path = log_dir / f"worker-{time.monotonic_ns()}.log"
    worker = spawn(argv, cwd=CHAT_DIR, env=env, port=0, log_path=log_path)
    worker.wait_for_log(WORKER_READY)
    return worker
