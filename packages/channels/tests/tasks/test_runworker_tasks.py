"""``runworker --tasks`` in real processes over Redis and over the IPC layer.

Marked slow (the plain channels test sessions install neither backend); the
``tasks`` nox sessions run them. Without Redis they fail saying how to start
it; they never skip.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib.util
import secrets
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels_tasks_support import Child, child_env, finished, tasks_setting
from django.tasks import TaskResultStatus
from django.test import Client, override_settings
from django.utils import timezone

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("task_store")]


@pytest.fixture(params=["redis", "ipc"])
def layer_setup(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, str]]]:
    """(layer name, child environment), with this process configured for the same layer."""
    name = request.param
    if name == "redis":
        layer_config, env = request.getfixturevalue("redis_process_setup")("tasks")
        prefix = layer_config["CONFIG"]["prefix"]
    else:
        if importlib.util.find_spec("asgi_ipc") is None:
            pytest.fail("asgi_ipc is not installed: pip install -e packages/asgi_ipc")
        import os

        prefix, env = f"tasks-{secrets.token_hex(4)}", dict(os.environ)
    env = child_env(env, name, prefix)
    import channels_tasks_settings  # the same layer table the children read

    layer_config = dict(channels_tasks_settings._LAYERS[name])
    layer_config["CONFIG"] = {**layer_config["CONFIG"], "prefix": prefix}
    with override_settings(
        CHANNEL_LAYERS={"default": layer_config},
        TASKS=tasks_setting(),
        ROOT_URLCONF="channels_tasks_app",
    ):
        yield name, env


@pytest.fixture
async def children(layer_setup: Any) -> AsyncIterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        child.stop()
    layer = get_channel_layer()
    if layer is not None:
        await layer.flush()
        await layer.close()


async def _spawn(children: list[Child], env: dict[str, str], tmp: Path, *args: str) -> Child:
    child = Child(tmp / f"child-{len(children)}.log", env, *args)
    children.append(child)
    ready = "Delay server listening" if args[0] == "rundelay" else "Running tasks from queues"
    await asyncio.to_thread(child.wait_for_log, ready)
    return child


def _runs(directory: Path) -> dict[str, list[int]]:
    return {
        path.name: [int(line) for line in path.read_text().split()]
        for path in sorted(directory.glob("runs-*.txt"))
    }


async def test_a_task_enqueued_in_a_view_runs_once_and_failures_keep_their_traceback(
    layer_setup: Any, children: list[Child], tmp_path: Path
) -> None:
    from channels_tasks_app import add, fail, mark

    _, env = layer_setup
    worker = await _spawn(children, env, tmp_path, "runworker", "--tasks")
    response = await sync_to_async(Client().get)("/enqueue/", {"a": 20, "b": 22})
    assert response.json()["status"] == "READY"
    result = await finished(add, response.json()["id"])
    assert (result.status, result.return_value, result.attempts) == ("SUCCESSFUL", 42, 1)
    assert result.enqueued_at <= result.started_at <= result.finished_at
    assert str(worker.process.pid) in result.worker_ids[0]
    once = await mark.aenqueue(str(tmp_path), 7)
    await finished(mark, once.id)
    failed = await finished(fail, (await fail.aenqueue("in a worker")).id)
    assert failed.status == TaskResultStatus.FAILED
    assert "RuntimeError: task failed on purpose: in a worker" in failed.errors[0].traceback
    assert (await finished(add, (await add.aenqueue(1, 2)).id)).return_value == 3
    assert worker.terminate() == 0
    assert _runs(tmp_path) == {f"runs-{worker.process.pid}.txt": [7]}


async def test_run_after_is_honoured_across_a_restart_of_the_delay_process(
    layer_setup: Any, children: list[Child], tmp_path: Path
) -> None:
    from channels.delay.models import DelayedMessage
    from channels_tasks_app import mark

    _, env = layer_setup
    delay = await _spawn(children, env, tmp_path, "rundelay")
    await _spawn(children, env, tmp_path, "runworker", "--tasks")
    run_after = timezone.now() + datetime.timedelta(seconds=3)
    result = await mark.using(run_after=run_after).aenqueue(str(tmp_path), 1)
    stored = sync_to_async(DelayedMessage.objects.filter(channel="tasks.default").count)
    while await stored() != 1:
        await asyncio.sleep(0.05)
    assert await asyncio.to_thread(delay.terminate) == 0
    assert (await mark.aget_result(result.id)).status == TaskResultStatus.READY
    await _spawn(children, env, tmp_path, "rundelay")
    done = await finished(mark, result.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.started_at >= run_after
    assert sum(len(runs) for runs in _runs(tmp_path).values()) == 1


async def test_two_workers_on_one_queue_run_disjoint_shares_of_200_tasks(
    layer_setup: Any, children: list[Child], tmp_path: Path
) -> None:
    from channels.tasks.models import TaskRecord
    from channels_tasks_app import mark

    _, env = layer_setup
    first = await _spawn(children, env, tmp_path, "runworker", "--tasks", "--concurrency", "4")
    second = await _spawn(children, env, tmp_path, "runworker", "--tasks", "--concurrency", "4")
    for n in range(200):
        await mark.aenqueue(str(tmp_path), n)
    unfinished = sync_to_async(TaskRecord.objects.exclude(status="SUCCESSFUL").count)
    while await unfinished():
        await asyncio.sleep(0.1)
    runs = _runs(tmp_path)
    shares = [runs.get(f"runs-{w.process.pid}.txt", []) for w in (first, second)]
    assert all(shares), f"each worker should run a share, got sizes {[len(s) for s in shares]}"
    assert sorted(shares[0] + shares[1]) == list(range(200))  # none twice, none lost
    assert set(runs) == {f"runs-{w.process.pid}.txt" for w in (first, second)}
    for worker in (first, second):
        assert await asyncio.to_thread(worker.terminate) == 0


async def test_sigterm_finishes_the_running_task_and_takes_no_new_one(
    layer_setup: Any, children: list[Child], tmp_path: Path
) -> None:
    from channels_tasks_app import add, slow

    _, env = layer_setup
    worker = await _spawn(children, env, tmp_path, "runworker", "--tasks", "other")
    running = await slow.aenqueue(str(tmp_path))
    while not (tmp_path / "started").exists():
        assert worker.process.poll() is None, worker.logged()
        await asyncio.sleep(0.02)
    waiting = await add.using(queue_name="other").aenqueue(1, 1)
    worker.process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(worker.wait_for_log, "Received SIGTERM")
    assert not (tmp_path / "finished").exists()
    (tmp_path / "release").write_text("1")
    assert await asyncio.to_thread(worker.process.wait, 60) == 0
    assert (await slow.aget_result(running.id)).return_value == "finished"
    assert (await add.aget_result(waiting.id)).status == TaskResultStatus.READY
