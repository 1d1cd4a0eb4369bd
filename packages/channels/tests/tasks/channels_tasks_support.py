"""Helpers shared by the channels.tasks tests (settings values, child environments)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def tasks_setting(alias: str = "default", **options: Any) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "channels.tasks.ChannelLayerBackend",
            "QUEUES": ["default", "other"],
            "OPTIONS": {"CHANNEL_LAYER": alias, "RESULT_DATABASE": "default", **options},
        }
    }


def child_env(env: dict[str, str], layer: str, prefix: str) -> dict[str, str]:
    """Environment for a runworker/rundelay child on *layer* ("redis" or "ipc")."""
    return dict(
        env,
        DJANGO_SETTINGS_MODULE="channels_tasks_settings",
        CHANNELS_TASKS_LAYER=layer,
        CHANNELS_TASKS_PREFIX=prefix,
        PYTHONPATH=os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]),
        PYTHONUNBUFFERED="1",
    )


async def finished(task: Any, result_id: str) -> Any:
    """Poll the result store until the task's result is finished."""
    while True:
        result = await task.aget_result(result_id)
        if result.is_finished:
            return result
        await asyncio.sleep(0.02)


class Child:
    """A ``python -m django`` child whose log goes to a file (a pipe could fill and block it)."""

    def __init__(self, log: Path, env: dict[str, str], *args: str) -> None:
        self.log = log
        self._file = open(log, "w")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", *args], env=env, stderr=self._file, text=True
        )

    def logged(self) -> str:
        return self.log.read_text()

    def wait_for_log(self, needle: str) -> None:
        while needle not in self.logged():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.log.name} exited without logging {needle!r}:\n"
                                     f"{self.logged()}")  # fmt: skip
            time.sleep(0.02)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._file.close()
