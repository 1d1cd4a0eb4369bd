"""Helpers shared by the channels.tasks tests (settings values, child environments)."""

from __future__ import annotations

import os
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
