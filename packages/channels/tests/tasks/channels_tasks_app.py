"""Task functions and a view for the channels.tasks tests (importable by workers)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.tasks import TaskContext, task
from django.urls import path


@task
def add(a: int, b: int) -> int:
    return a + b


@task
async def adouble(value: int) -> int:
    await asyncio.sleep(0)
    return value * 2


@task
def fail(reason: str) -> None:
    raise RuntimeError(f"task failed on purpose: {reason}")


@task
def unserializable() -> object:
    return object()


@task(takes_context=True)
def attempt_of(context: TaskContext) -> list[Any]:
    return [context.attempt, context.task_result.id]


@task
def mark(directory: str, n: int) -> int:
    """Record one run of item *n* in a file of this process's own (no interleaving)."""
    with open(Path(directory) / f"runs-{os.getpid()}.txt", "a") as runs:
        runs.write(f"{n}\n")
    return n


@task(queue_name="other")
def slow(directory: str) -> str:
    """For the SIGTERM test: marks start, waits for a release file, marks finish."""
    folder = Path(directory)
    (folder / "started").write_text("1")
    while not (folder / "release").exists():
        time.sleep(0.01)
    (folder / "finished").write_text("1")
    return "finished"


@task
async def ablock(directory: str) -> str:
    folder = Path(directory)
    (folder / "started").write_text("1")
    while not (folder / "release").exists():
        await asyncio.sleep(0.01)
    return "released"


def enqueue_view(request: HttpRequest) -> JsonResponse:
    a, b = int(request.GET["a"]), int(request.GET["b"])
    result = add.enqueue(a, b)
    return JsonResponse({"id": result.id, "status": result.status})


urlpatterns = [path("enqueue/", enqueue_view)]
