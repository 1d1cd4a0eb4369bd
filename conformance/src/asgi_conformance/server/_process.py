"""Start the server under test from a command template, wait for it, measure it, stop it.

The template is split with ``shlex`` and formatted per argument with ``{host}``,
``{port}``, ``{app}``, ``{certfile}`` and ``{keyfile}``; no shell is involved. The
server runs in its own session (process group) so that stopping it also stops any
worker processes it forked, and nothing else. Its output goes to a log file that a
failing check quotes.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._wire import HOST, Target

CERTS = Path(__file__).resolve().parent / "certs"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def render(template: str, port: int, app: str) -> list[str]:
    values = {
        "python": sys.executable,
        "host": HOST,
        "port": str(port),
        "app": app,
        "certfile": str(CERTS / "cert.pem"),
        "keyfile": str(CERTS / "key.pem"),
    }
    try:
        return [part.format(**values) for part in shlex.split(template)]
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"bad server command template {template!r}: expected placeholders among "
            f"{{host}} {{port}} {{app}} {{certfile}} {{keyfile}}, got error {exc!r}"
        ) from exc


@dataclass
class ServerProcess:
    """One running server: its process, where it listens, and its log."""

    argv: list[str]
    target: Target
    workdir: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    exit_code: int | None = field(default=None)

    def start(self) -> None:
        env = {**os.environ, "ASGI_CONFORMANCE_DIR": str(self.workdir), "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        """True once the port accepts connections; False if the process exited first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            try:
                with socket.create_connection((HOST, self.target.port), timeout=1.0):
                    return True
            except OSError:
                time.sleep(0.05)
        raise AssertionError(
            f"the server did not listen on {HOST}:{self.target.port} within {timeout} s: "
            f"{shlex.join(self.argv)}\n{self.log_tail()}"
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM to the server's process group, SIGKILL after ``timeout``; the exit code."""
        process = self.process
        if process is None:
            return self.exit_code
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout)
        _signal_group(process.pid, signal.SIGKILL)  # leftover workers of the group
        self.exit_code = process.returncode
        return self.exit_code

    def log_tail(self, size: int = 4000) -> str:
        try:
            text = self.log_path.read_bytes()[-size:].decode("utf-8", "replace")
        except OSError:
            return "(no server log)"
        return f"--- server log (last {size} bytes) ---\n{text}"

    def rss(self) -> int:
        """Resident memory in bytes of the server process and all its descendants."""
        if self.process is None:
            return 0
        return sum(_rss_of(pid) for pid in _tree(self.process.pid))


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # the group we created with start_new_session; its id is pid
    except (ProcessLookupError, PermissionError):
        pass


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def has_proc() -> bool:
    return Path("/proc/self/status").exists()


__all__ = ["CERTS", "ServerProcess", "free_port", "has_proc", "render"]
