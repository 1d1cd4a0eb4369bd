"""Type aliases for Django's generic Task and TaskResult (for annotations only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.tasks import TaskResultStatus

if TYPE_CHECKING:
    from typing import TypeAlias

    from django.tasks import Task, TaskResult

    AnyTask: TypeAlias = Task[..., Any]
    AnyResult: TypeAlias = TaskResult[..., Any]

__all__ = ["FAILED", "READY", "RUNNING", "SUCCESSFUL", "AnyResult", "AnyTask"]

# The stubs declare the members as "...": give them their enum type once.
READY = TaskResultStatus("READY")
RUNNING = TaskResultStatus("RUNNING")
FAILED = TaskResultStatus("FAILED")
SUCCESSFUL = TaskResultStatus("SUCCESSFUL")
