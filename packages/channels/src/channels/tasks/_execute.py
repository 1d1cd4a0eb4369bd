"""Running one task message to its outcome, recorded in the result store.

Invariants:

* Whatever the task does, ``execute`` returns normally (the worker keeps
  serving): an exception, an unimportable path or a return value that is not
  JSON becomes a FAILED outcome with its traceback.
* Sync functions run in a worker thread of their own (not the one shared
  thread of ``database_sync_to_async``'s default), with stale database
  connections closed before and after, so that tasks run side by side and a
  long-lived worker does not keep dead connections.
* Cancellation (a forced stop) is recorded as a failure, then re-raised.
"""

from __future__ import annotations

import asyncio
import json
import logging
from traceback import format_exception
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction
from django.tasks import TaskContext
from django.tasks.base import TaskError
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django.utils.json import normalize_json

from .._db import database_sync_to_async
from . import _store
from ._backend import ChannelLayerBackend
from ._message import TaskMessage
from ._typing import FAILED, RUNNING, SUCCESSFUL

if TYPE_CHECKING:
    from ._typing import AnyResult, AnyTask

__all__ = ["execute"]

logger = logging.getLogger("channels.tasks")


async def execute(message: TaskMessage, database: str | None, worker_id: str) -> AnyResult | None:
    """Run *message*'s task; return its outcome (None if its path names no task)."""
    started_at = timezone.now()
    if database is not None:
        await database_sync_to_async(_store.record_started)(
            message.id, database, worker_id, started_at
        )
    try:
        task = _store.resolve_task(message.task_path)
    except ValueError as exc:
        await _finish(message, database, None, error=exc)
        return None
    result = _running_result(task, message, started_at, worker_id)
    await task_started.asend(ChannelLayerBackend, task_result=result)
    try:
        value = await _call(task, result)
        encoded = normalize_json(value)
        json.dumps(encoded)
    except asyncio.CancelledError as exc:
        await _finish(message, database, result, error=exc)
        raise
    except Exception as exc:
        await _finish(message, database, result, error=exc)
    else:
        await _finish(message, database, result, value=encoded)
    return result


async def _call(task: AnyTask, result: AnyResult) -> Any:
    args = [TaskContext(task_result=result), *result.args] if task.takes_context else result.args
    if iscoroutinefunction(task.func):
        return await task.func(*args, **result.kwargs)
    return await database_sync_to_async(task.func, thread_sensitive=False)(*args, **result.kwargs)


def _running_result(
    task: AnyTask, message: TaskMessage, started_at: Any, worker_id: str
) -> AnyResult:
    return _store.new_result(
        task.using(queue_name=message.queue_name, backend=message.backend),
        message.id,
        RUNNING,
        {"args": message.args, "kwargs": message.kwargs},
        enqueued_at=message.enqueued_at,
        started_at=started_at,
        last_attempted_at=started_at,
        worker_ids=[worker_id],
    )


async def _finish(
    message: TaskMessage,
    database: str | None,
    result: AnyResult | None,
    *,
    value: Any = None,
    error: BaseException | None = None,
) -> None:
    finished_at = timezone.now()
    failure = None
    if error is not None:
        kind = type(error)
        failure = TaskError(
            exception_class_path=f"{kind.__module__}.{kind.__qualname__}",
            traceback="".join(format_exception(error)),
        )
    if database is not None:
        await database_sync_to_async(_store.record_finished)(
            message.id, database, finished_at, value, failure
        )
    if failure is not None:
        logger.error(
            "Task id=%s path=%s failed:\n%s", message.id, message.task_path, failure.traceback
        )
    if result is None:
        return
    object.__setattr__(result, "finished_at", finished_at)
    if failure is None:
        object.__setattr__(result, "status", SUCCESSFUL)
        object.__setattr__(result, "_return_value", value)
    else:
        object.__setattr__(result, "status", FAILED)
        result.errors.append(failure)
    await task_finished.asend(ChannelLayerBackend, task_result=result)
