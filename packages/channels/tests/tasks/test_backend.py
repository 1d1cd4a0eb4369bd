"""ChannelLayerBackend over the in-memory layer: validation, messages, results."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from channels.delay import DELAY_CHANNEL
from channels.layers import get_channel_layer
from channels.tasks import ChannelLayerBackend, task_channel
from channels.tasks._message import InvalidTaskMessage, decode_task_message
from channels_tasks_support import tasks_setting
from django.core.exceptions import ImproperlyConfigured
from django.tasks import TaskResultStatus, task_backends
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.test import override_settings
from django.utils import timezone

pytestmark = pytest.mark.usefixtures("task_store")


def _layer() -> Any:
    layer = get_channel_layer()
    assert layer is not None
    return layer


async def test_aenqueue_sends_one_message_to_the_queue_channel_and_stores_a_ready_row() -> None:
    from channels_tasks_app import add

    result = await add.aenqueue(2, 3)
    assert result.status == TaskResultStatus.READY
    message = await _layer().receive("tasks.default")
    decoded = decode_task_message(message)
    assert (decoded.id, decoded.task_path) == (result.id, "channels_tasks_app.add")
    assert (decoded.args, decoded.kwargs, decoded.run_after) == ([2, 3], {}, None)
    stored = await add.aget_result(result.id)
    assert stored.status == TaskResultStatus.READY
    assert stored.args == [2, 3]
    assert stored.started_at is None


def test_sync_enqueue_from_a_view_thread_works_too() -> None:
    from channels_tasks_app import add

    result = add.using(queue_name="other").enqueue(a=1, b=2)
    assert add.get_result(result.id).kwargs == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((object(),), "Unsupported type"),
        ((float("nan"),), "JSON round trip"),
        (({1: "x"},), "JSON round trip"),
    ],
)
async def test_arguments_must_survive_a_json_round_trip(args: Any, error: str) -> None:
    from channels_tasks_app import add

    with pytest.raises((TypeError, ValueError), match=error):
        await add.aenqueue(*args)


async def test_validation_follows_django() -> None:
    from channels_tasks_app import add

    with pytest.raises(InvalidTask, match="Queue 'nope' is not valid"):
        add.using(queue_name="nope")
    with pytest.raises(InvalidTask, match="does not support setting priority"):
        add.using(priority=10)
    with pytest.raises(InvalidTask, match="aware datetime"):
        add.using(run_after=datetime.datetime.now())


def test_queue_names_that_cannot_name_a_channel_are_refused() -> None:
    assert task_channel("emails") == "tasks.emails"
    with pytest.raises(ValueError, match="process-local"):
        task_channel("x!y")
    with pytest.raises(ValueError, match="cannot name a channel"):
        task_channel("bad name")
    with pytest.raises(ImproperlyConfigured, match="QUEUES"):
        ChannelLayerBackend("x", {"QUEUES": ["ok", "not ok"]})
    with pytest.raises(ImproperlyConfigured, match="unknown keys \\['LAYER'\\]"):
        ChannelLayerBackend("x", {"OPTIONS": {"LAYER": "default"}})


async def test_run_after_goes_through_the_delay_server() -> None:
    from channels_tasks_app import add

    when = timezone.now() + datetime.timedelta(seconds=30)
    result = await add.using(run_after=when).aenqueue(1, 1)
    request = await _layer().receive(DELAY_CHANNEL)
    assert request["channel"] == "tasks.default"
    assert 25_000 < request["delay"] <= 30_000
    assert decode_task_message(request["content"]).run_after == when
    assert (await add.aget_result(result.id)).status == TaskResultStatus.READY


def test_without_a_store_the_backend_says_it_cannot_fetch_results() -> None:
    with override_settings(TASKS=tasks_setting(RESULT_DATABASE=None)):
        backend = task_backends["default"]
        assert backend.supports_get_result is False
        with pytest.raises(NotImplementedError, match="stores no results"):
            backend.get_result("anything")
    assert task_backends["default"].supports_get_result is True
    assert task_backends["default"].supports_defer is True
    assert task_backends["default"].supports_async_task is True
    assert task_backends["default"].supports_priority is False


async def test_an_unknown_result_id_does_not_exist() -> None:
    from channels_tasks_app import add

    with pytest.raises(TaskResultDoesNotExist):
        await add.aget_result("missing")


def test_a_failed_send_leaves_no_ready_row() -> None:
    from channels.tasks.models import TaskRecord
    from channels_tasks_app import add

    with (
        override_settings(TASKS=tasks_setting(alias="absent")),
        pytest.raises(ImproperlyConfigured, match="'absent', which is not in CHANNEL_LAYERS"),
    ):
        add.enqueue(1, 2)
    assert TaskRecord.objects.count() == 0


def test_checks_name_what_is_missing() -> None:
    with override_settings(TASKS=tasks_setting(alias="absent", RESULT_DATABASE="nowhere")):
        ids = {message.id for message in task_backends["default"].check()}
    assert ids == {"channels.tasks.E001", "channels.tasks.E003"}
    assert task_backends["default"].check() == []


@pytest.mark.parametrize(
    "message",
    ["text", {"type": "other"}, {"type": "django.task", "id": 5}],
)
def test_a_message_that_is_not_a_task_is_refused(message: Any) -> None:
    with pytest.raises(InvalidTaskMessage):
        decode_task_message(message)
