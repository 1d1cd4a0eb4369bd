"""The task message that travels over the channel layer (pure; no IO).

One message is one enqueued task: everything a worker needs to run it and
record its outcome, in types every serializer keeps (str, int, bool, None,
lists and dicts). Times travel as ISO 8601 strings.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from asgiref.layers import InvalidChannelName, is_process_local, require_valid_channel_name

__all__ = [
    "CHANNEL_PREFIX",
    "MESSAGE_TYPE",
    "InvalidTaskMessage",
    "TaskMessage",
    "decode_task_message",
    "task_channel",
]

#: Queue ``q`` is served on channel ``tasks.q``.
CHANNEL_PREFIX = "tasks."
MESSAGE_TYPE = "django.task"


class InvalidTaskMessage(ValueError):
    """A message on a task channel is not a task; the text says what was wrong."""


def task_channel(queue_name: str) -> str:
    """The channel a queue's tasks travel on; ValueError if the name cannot be one."""
    channel = f"{CHANNEL_PREFIX}{queue_name}"
    try:
        require_valid_channel_name(channel)
    except InvalidChannelName as exc:
        raise ValueError(
            f"Queue name {queue_name!r} cannot name a channel ({channel!r}): {exc}"
        ) from exc
    if is_process_local(channel):
        raise ValueError(
            f"Queue name {queue_name!r} names a process-local channel ({channel!r}); "
            "workers in other processes could not receive from it"
        )
    return channel


@dataclass(frozen=True)
class TaskMessage:
    id: str
    task_path: str
    backend: str
    queue_name: str
    priority: int
    args: list[Any]
    kwargs: dict[str, Any]
    enqueued_at: datetime.datetime
    run_after: datetime.datetime | None

    def encode(self) -> dict[str, Any]:
        return {
            "type": MESSAGE_TYPE,
            "id": self.id,
            "task": self.task_path,
            "backend": self.backend,
            "queue": self.queue_name,
            "priority": self.priority,
            "args": self.args,
            "kwargs": self.kwargs,
            "enqueued_at": self.enqueued_at.isoformat(),
            "run_after": None if self.run_after is None else self.run_after.isoformat(),
        }


def decode_task_message(message: object) -> TaskMessage:
    """Check a received message and return its parts."""
    if not isinstance(message, dict) or message.get("type") != MESSAGE_TYPE:
        raise InvalidTaskMessage(f"Expected a {MESSAGE_TYPE!r} message, got {message!r:.120}")
    fields = {"id": str, "task": str, "backend": str, "queue": str, "priority": int}
    fields.update({"args": list, "kwargs": dict, "enqueued_at": str})
    for name, kind in fields.items():
        if not isinstance(message.get(name), kind):
            raise InvalidTaskMessage(
                f"Task message field {name!r} must be {kind.__name__}, "
                f"got {message.get(name)!r:.80}"
            )
    run_after = message.get("run_after")
    if run_after is not None and not isinstance(run_after, str):
        raise InvalidTaskMessage(f"'run_after' must be an ISO time or None, got {run_after!r}")
    return TaskMessage(
        id=message["id"],
        task_path=message["task"],
        backend=message["backend"],
        queue_name=message["queue"],
        priority=message["priority"],
        args=message["args"],
        kwargs=message["kwargs"],
        enqueued_at=_time(message["enqueued_at"]),
        run_after=None if run_after is None else _time(run_after),
    )


def _time(text: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidTaskMessage(f"Expected an ISO 8601 time, got {text!r}") from exc
