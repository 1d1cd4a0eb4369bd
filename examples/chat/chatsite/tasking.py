"""Whether the chat's background moderation check runs, and the ``TASKS`` setting for it.

Each chat message is checked in the background by a Django task (``chat.tasks``) that
``manage.py runworker --tasks moderation`` runs in its own process; the verdict comes
back to the room over the channel layer. That needs two things:

* ``django.tasks``, which Django added in 6.0 (Django 6 needs Python 3.12 or later);
* a channel layer that crosses processes (``redis``, ``rabbitmq`` or ``ipc``): the
  in-memory layer lives inside one process, so no worker could receive from it.

``CHAT_TASKS`` chooses: ``auto`` (default) turns the check on exactly when both hold
and otherwise leaves the chat as it was, with the reason in :attr:`Decision.why`;
``on`` insists (``ValueError`` naming what is missing); ``off`` never checks. This is a
pure function of what it is given, tested without touching the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chatsite.layers import layer_name_from_env

__all__ = ["MODERATION_QUEUE", "TASK_MODES", "Decision", "decide"]

#: The queue (channel ``tasks.moderation``) the check travels on; the worker serves it.
MODERATION_QUEUE = "moderation"
TASK_MODES = ("auto", "on", "off")


@dataclass(frozen=True)
class Decision:
    """``tasks`` is the ``TASKS`` setting when the check runs, else None; ``why`` says why."""

    tasks: dict[str, dict[str, Any]] | None
    why: str

    @property
    def on(self) -> bool:
        return self.tasks is not None


def decide(environ: Mapping[str, str], *, django_version: tuple[int, int]) -> Decision:
    """Read ``CHAT_TASKS`` and ``CHAT_CHANNEL_LAYER``; say whether the check runs and why."""
    mode = environ.get("CHAT_TASKS", "").strip().lower() or "auto"
    if mode not in TASK_MODES:
        raise ValueError(f"CHAT_TASKS must be one of {', '.join(TASK_MODES)}; got {mode!r}")
    if mode == "off":
        return Decision(None, "background moderation is off (CHAT_TASKS=off)")
    missing = _missing(layer_name_from_env(environ), django_version)
    if missing is None:
        return Decision(
            _tasks_setting(),
            "background moderation is on: each message is checked by the task worker "
            f"(manage.py runworker --tasks {MODERATION_QUEUE})",
        )
    if mode == "on":
        raise ValueError(f"CHAT_TASKS=on, but {missing}")
    return Decision(None, f"background moderation is off: {missing}")


def _missing(layer: str, django_version: tuple[int, int]) -> str | None:
    if django_version < (6, 0):
        found = ".".join(str(part) for part in django_version)
        return f"it needs django.tasks (Django 6.0+, Python 3.12+) and Django {found} is installed"
    if layer == "memory":
        return (
            "the in-memory channel layer cannot reach a worker process; "
            "set CHAT_CHANNEL_LAYER to redis, rabbitmq or ipc"
        )
    return None


def _tasks_setting() -> dict[str, dict[str, Any]]:
    return {
        "default": {
            "BACKEND": "channels.tasks.ChannelLayerBackend",
            "QUEUES": [MODERATION_QUEUE],
            # Tasks ride the chat's own layer; the verdict goes back over it, to the
            # room's group, so no result store is needed (see README).
            "OPTIONS": {"CHANNEL_LAYER": "default", "RESULT_DATABASE": None},
        }
    }
