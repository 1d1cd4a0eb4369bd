"""The result store: one row per enqueued task, from enqueue to its last outcome.

A row is written READY before its message is sent, so a worker always finds
it; RUNNING with ``started_at`` when a worker takes the task; SUCCESSFUL or
FAILED with ``finished_at`` when it ends. A row left RUNNING without
``finished_at`` is a task whose worker died: it never finished and is not
retried (delivery is at most once).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models

__all__ = ["TaskRecord"]


class TaskRecord(models.Model):
    """One enqueued task, from enqueue to its last outcome (status, result, errors)."""

    id: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    task_path: models.CharField[str, str] = models.CharField(max_length=255)
    backend: models.CharField[str, str] = models.CharField(max_length=100)
    queue_name: models.CharField[str, str] = models.CharField(max_length=100)
    priority: models.IntegerField[int, int] = models.IntegerField(default=0)
    args: models.JSONField[Any, Any] = models.JSONField(default=list)
    kwargs: models.JSONField[Any, Any] = models.JSONField(default=dict)
    status: models.CharField[str, str] = models.CharField(max_length=10, db_index=True)
    enqueued_at: models.DateTimeField[datetime.datetime, datetime.datetime] = models.DateTimeField()
    run_after: models.DateTimeField[datetime.datetime | None, datetime.datetime | None] = (
        models.DateTimeField(null=True)
    )
    started_at: models.DateTimeField[datetime.datetime | None, datetime.datetime | None] = (
        models.DateTimeField(null=True)
    )
    finished_at: models.DateTimeField[datetime.datetime | None, datetime.datetime | None] = (
        models.DateTimeField(null=True)
    )
    last_attempted_at: models.DateTimeField[datetime.datetime | None, datetime.datetime | None] = (
        models.DateTimeField(null=True)
    )
    #: The JSON-normalised return value (SUCCESSFUL rows only).
    return_value: models.JSONField[Any, Any] = models.JSONField(null=True)
    #: ``[{"exception_class_path": ..., "traceback": ...}]``, one per failed attempt.
    errors: models.JSONField[Any, Any] = models.JSONField(default=list)
    worker_ids: models.JSONField[Any, Any] = models.JSONField(default=list)

    class Meta:
        app_label = "channels_tasks"
        ordering = ["enqueued_at", "id"]

    def __str__(self) -> str:
        return f"{self.task_path} {self.id} {self.status}"
