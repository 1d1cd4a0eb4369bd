"""The result store's reads and writes (sync ORM calls; the async side wraps them).

Invariants:

* Only ``enqueue`` creates a row, and it does so before the message is sent.
* A worker's updates name the row by id and never create one: a task sent
  by a backend without a store (or whose row was deleted) runs unrecorded.
* Status moves READY -> RUNNING -> SUCCESSFUL | FAILED; nothing moves back.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.tasks import Task, TaskResult, TaskResultStatus
from django.tasks.base import TaskError
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils.module_loading import import_string

from ._typing import FAILED, READY, RUNNING, SUCCESSFUL

if TYPE_CHECKING:
    from ._typing import AnyResult, AnyTask

__all__ = [
    "create_record",
    "delete_record",
    "load_result",
    "new_result",
    "record_finished",
    "record_started",
    "resolve_task",
]


def create_record(result: AnyResult, database: str, run_after: datetime.datetime | None) -> None:
    from .models import TaskRecord

    TaskRecord.objects.using(database).create(
        id=result.id,
        task_path=result.task.module_path,
        backend=result.backend,
        queue_name=result.task.queue_name,
        priority=result.task.priority,
        args=result.args,
        kwargs=result.kwargs,
        status=READY,
        enqueued_at=result.enqueued_at,
        run_after=run_after,
    )


def delete_record(result_id: str, database: str) -> None:
    from .models import TaskRecord

    TaskRecord.objects.using(database).filter(pk=result_id).delete()


def record_started(
    result_id: str, database: str, worker_id: str, started_at: datetime.datetime
) -> None:
    from .models import TaskRecord

    records = TaskRecord.objects.using(database)
    row = records.filter(pk=result_id).only("worker_ids").first()
    if row is None:
        return
    records.filter(pk=result_id).update(
        status=RUNNING,
        started_at=started_at,
        last_attempted_at=started_at,
        worker_ids=[*row.worker_ids, worker_id],
    )


def record_finished(
    result_id: str,
    database: str,
    finished_at: datetime.datetime,
    return_value: Any = None,
    error: TaskError | None = None,
) -> None:
    from .models import TaskRecord

    records = TaskRecord.objects.using(database)
    row = records.filter(pk=result_id).only("errors").first()
    if row is None:
        return
    if error is None:
        records.filter(pk=result_id).update(
            status=SUCCESSFUL, finished_at=finished_at, return_value=return_value
        )
        return
    failure = {"exception_class_path": error.exception_class_path, "traceback": error.traceback}
    records.filter(pk=result_id).update(
        status=FAILED, finished_at=finished_at, errors=[*row.errors, failure]
    )


def resolve_task(task_path: str) -> AnyTask:
    """The Task object a module path names (what ``@task`` left at that path)."""
    try:
        found = import_string(task_path)
    except ImportError as exc:
        raise ValueError(
            f"Expected {task_path!r} to point to a Task; it cannot be imported"
        ) from exc
    if not isinstance(found, Task):
        raise ValueError(
            f"Expected {task_path!r} to point to a Task (a @task function), "
            f"got {type(found).__name__}"
        )
    return found


def load_result(result_id: str, database: str) -> AnyResult:
    """The stored outcome of a task as Django's TaskResult."""
    from .models import TaskRecord

    row = TaskRecord.objects.using(database).filter(pk=result_id).first()
    if row is None:
        raise TaskResultDoesNotExist(result_id)
    task = resolve_task(row.task_path).using(queue_name=row.queue_name, backend=row.backend)
    result = new_result(
        task,
        row.id,
        TaskResultStatus(row.status),
        {"args": row.args, "kwargs": row.kwargs},
        enqueued_at=row.enqueued_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        last_attempted_at=row.last_attempted_at,
        errors=[TaskError(**error) for error in row.errors],
        worker_ids=list(row.worker_ids),
    )
    if result.status == SUCCESSFUL:
        object.__setattr__(result, "_return_value", row.return_value)
    return result


def new_result(
    task: AnyTask,
    result_id: str,
    status: TaskResultStatus,
    arguments: dict[str, Any],
    **times_and_history: Any,
) -> AnyResult:
    """A TaskResult of *task*; times, errors and worker ids default to none yet."""
    fields: dict[str, Any] = {
        "enqueued_at": None,
        "started_at": None,
        "finished_at": None,
        "last_attempted_at": None,
        "errors": [],
        "worker_ids": [],
    }
    fields.update(times_and_history)
    return TaskResult(
        task=task,
        id=result_id,
        status=status,
        args=arguments["args"],
        kwargs=arguments["kwargs"],
        backend=task.backend,
        **fields,
    )
