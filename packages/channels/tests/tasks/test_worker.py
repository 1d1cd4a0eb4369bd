"""TaskWorker over the in-memory layer: outcomes, the result store, stopping."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

import pytest
from channels.delay import DELAY_CHANNEL
from channels.layers import get_channel_layer
from channels.tasks import TaskWorker
from channels_tasks_support import finished
from django.tasks import TaskResultStatus, task_backends
from django.utils import timezone

pytestmark = pytest.mark.usefixtures("task_store")


def _worker(*queues: str, concurrency: int = 1) -> TaskWorker:
    return TaskWorker(
        task_backends["default"], queues or ["default"], get_channel_layer(), concurrency
    )


async def test_sync_async_and_context_tasks_run_and_their_results_are_stored() -> None:
    from channels_tasks_app import add, adouble, attempt_of

    worker = _worker()
    serving = asyncio.ensure_future(worker.arun())
    sums, doubles, context = await add.aenqueue(2, 3), await adouble.aenqueue(21), None
    context = await attempt_of.aenqueue()
    first = await finished(add, sums.id)
    assert (first.status, first.return_value, first.errors) == ("SUCCESSFUL", 5, [])
    assert first.enqueued_at <= first.started_at <= first.finished_at
    assert first.worker_ids == [worker.worker_id]
    assert (await finished(adouble, doubles.id)).return_value == 42
    assert (await finished(attempt_of, context.id)).return_value == [1, context.id]
    worker.request_stop()
    await serving


async def test_a_failing_task_is_recorded_with_its_traceback_and_the_worker_serves_on() -> None:
    from channels_tasks_app import add, fail, unserializable

    worker = _worker()
    serving = asyncio.ensure_future(worker.arun())
    failed = await finished(fail, (await fail.aenqueue("boom")).id)
    assert failed.status == TaskResultStatus.FAILED
    (error,) = failed.errors
    assert error.exception_class is RuntimeError
    assert "task failed on purpose: boom" in error.traceback
    assert 'in fail\n    raise RuntimeError(f"task failed on purpose' in error.traceback
    with pytest.raises(ValueError, match="Task failed"):
        _ = failed.return_value
    odd = await finished(unserializable, (await unserializable.aenqueue()).id)
    assert odd.errors[0].exception_class is TypeError
    assert (await finished(add, (await add.aenqueue(1, 1)).id)).return_value == 2
    worker.request_stop()
    await serving


async def test_concurrency_runs_that_many_tasks_of_a_queue_at_once(tmp_path: Path) -> None:
    from channels_tasks_app import ablock, add

    worker = _worker(concurrency=2)
    serving = asyncio.ensure_future(worker.arun())
    blocked = await ablock.aenqueue(str(tmp_path))
    while not (tmp_path / "started").exists():
        await asyncio.sleep(0.01)
    # One slot is held by the blocked task; the other still serves.
    assert (await finished(add, (await add.aenqueue(1, 2)).id)).return_value == 3
    (tmp_path / "release").write_text("1")
    assert (await finished(ablock, blocked.id)).return_value == "released"
    worker.request_stop()
    await serving


async def test_a_stop_finishes_the_running_task_and_takes_no_new_one(tmp_path: Path) -> None:
    from channels_tasks_app import ablock, add

    worker = _worker()
    serving = asyncio.ensure_future(worker.arun())
    blocked = await ablock.aenqueue(str(tmp_path))
    while not (tmp_path / "started").exists():
        await asyncio.sleep(0.01)
    waiting = await add.aenqueue(5, 5)
    worker.request_stop()
    await asyncio.sleep(0)
    assert not serving.done()
    (tmp_path / "release").write_text("1")
    await serving
    assert (await ablock.aget_result(blocked.id)).status == TaskResultStatus.SUCCESSFUL
    assert (await add.aget_result(waiting.id)).status == TaskResultStatus.READY
    layer = get_channel_layer()
    assert layer is not None
    assert (await layer.receive("tasks.default"))["id"] == waiting.id


async def test_a_second_stop_cancels_the_running_task_and_records_it_failed(
    tmp_path: Path,
) -> None:
    from channels_tasks_app import ablock

    worker = _worker()
    serving = asyncio.ensure_future(worker.arun())
    blocked = await ablock.aenqueue(str(tmp_path))
    while not (tmp_path / "started").exists():
        await asyncio.sleep(0.01)
    worker.request_stop()
    worker.request_stop()
    await serving
    result = await ablock.aget_result(blocked.id)
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class is asyncio.CancelledError


async def test_a_task_that_arrives_before_run_after_waits_again_in_the_delay_server() -> None:
    from channels_tasks_app import add

    layer = get_channel_layer()
    assert layer is not None
    when = timezone.now() + datetime.timedelta(seconds=60)
    result = await add.using(run_after=when).aenqueue(1, 2)
    early = (await layer.receive(DELAY_CHANNEL))["content"]
    await layer.send("tasks.default", early)  # as if the delay server sent it too soon
    worker = _worker()
    serving = asyncio.ensure_future(worker.arun())
    again = await layer.receive(DELAY_CHANNEL)
    assert again["content"]["id"] == result.id
    assert 50_000 < again["delay"] <= 60_000
    worker.request_stop()
    await serving
    assert (await add.aget_result(result.id)).status == TaskResultStatus.READY


async def test_a_message_that_is_not_a_task_is_logged_and_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from channels_tasks_app import add

    layer = get_channel_layer()
    assert layer is not None
    worker = _worker()
    serving = asyncio.ensure_future(worker.arun())
    await layer.send("tasks.default", {"type": "django.task", "id": 1})
    assert (await finished(add, (await add.aenqueue(1, 1)).id)).return_value == 2
    assert "Dropped a message on task channel 'tasks.default'" in caplog.text
    worker.request_stop()
    await serving


def test_worker_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="concurrency must be an int of 1 or more, got 0"):
        _worker(concurrency=0)
    with pytest.raises(ValueError, match="cannot name a channel"):
        _worker("bad queue")
