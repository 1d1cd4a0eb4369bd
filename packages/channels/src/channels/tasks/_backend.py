"""``ChannelLayerBackend``: Django's task backend interface over a channel layer.

``enqueue`` validates the task as Django does, writes the READY row when a
result store is configured, then sends one message to ``tasks.<queue>`` (or,
for a ``run_after`` in the future, to the delay server, which stores it in
the database until it is due). ``runworker --tasks`` runs it.

Priority is not supported (``supports_priority = False``): a channel layer
is first-in first-out per channel and has no peek, so a worker cannot pick
the most urgent of several waiting messages without first taking them all
off the layer, where they would be lost with the worker and hidden from
other workers. Give urgent work its own queue and its own workers instead.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.exceptions import InvalidTask
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.json import normalize_json

from .. import DEFAULT_CHANNEL_LAYER
from .._db import database_sync_to_async
from .._layers import get_channel_layer
from ..delay import MAX_DELAY_MS, send_delayed
from . import _store
from ._checks import check_backend
from ._message import TaskMessage, task_channel
from ._typing import READY

if TYPE_CHECKING:
    from django.tasks import Task, TaskResult

    from ._typing import AnyResult, AnyTask

__all__ = ["ChannelLayerBackend"]

P = ParamSpec("P")
R = TypeVar("R")

#: OPTIONS keys -> what they mean (the error for an unknown key lists them).
KNOWN_OPTIONS = {
    "CHANNEL_LAYER": "the CHANNEL_LAYERS alias tasks travel on",
    "RESULT_DATABASE": "a DATABASES alias for the result store, or None for no store",
}


class ChannelLayerBackend(BaseTaskBackend):
    """Django's task backend that sends each enqueued task over a channel layer.

    ``OPTIONS``: ``CHANNEL_LAYER`` (the ``CHANNEL_LAYERS`` alias, ``"default"`` if unset)
    and ``RESULT_DATABASE`` (a ``DATABASES`` alias for the result store; without it results
    cannot be fetched). Each of ``QUEUES`` becomes the channel ``tasks.<queue>`` that
    ``runworker --tasks`` reads. Unknown options or invalid queue names raise
    ``ImproperlyConfigured``. Delivery is at most once; priorities are not supported.
    """

    supports_defer = True
    supports_async_task = True
    supports_priority = False

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        unknown = sorted(set(self.options) - set(KNOWN_OPTIONS))
        if unknown:
            raise ImproperlyConfigured(
                f"TASKS[{alias!r}]['OPTIONS'] has unknown keys {unknown}; "
                f"expected some of {sorted(KNOWN_OPTIONS)}"
            )
        self.channel_layer_alias: str = self.options.get("CHANNEL_LAYER", DEFAULT_CHANNEL_LAYER)
        self.result_database: str | None = self.options.get("RESULT_DATABASE")
        # Results can be fetched from any process exactly when they are stored.
        self.supports_get_result = self.result_database is not None
        for queue in self.queues:
            try:
                task_channel(queue)
            except ValueError as exc:
                raise ImproperlyConfigured(f"TASKS[{alias!r}]['QUEUES']: {exc}") from exc

    def check(self, **kwargs: Any) -> list[Any]:
        """Django system checks for this backend's configuration."""
        return check_backend(self)

    def validate_task(self, task: AnyTask) -> None:
        super().validate_task(task)
        try:
            task_channel(task.queue_name)
        except ValueError as exc:
            raise InvalidTask(str(exc)) from exc

    # Enqueueing --------------------------------------------------------------------

    def enqueue(
        self, task: Task[P, R], args: Sequence[Any], kwargs: dict[str, Any]
    ) -> TaskResult[P, R]:
        result: TaskResult[P, R] = async_to_sync(self.aenqueue)(task, args, kwargs)
        return result

    async def aenqueue(
        self, task: Task[P, R], args: Sequence[Any], kwargs: dict[str, Any]
    ) -> TaskResult[P, R]:
        self.validate_task(task)
        # Built untyped (from JSON-normalised arguments); it belongs to *task*.
        result = cast("TaskResult[P, R]", self._new_result(task, args, kwargs))
        message = TaskMessage(
            id=result.id,
            task_path=task.module_path,
            backend=self.alias,
            queue_name=task.queue_name,
            priority=task.priority,
            args=result.args,
            kwargs=result.kwargs,
            enqueued_at=result.enqueued_at or timezone.now(),
            run_after=task.run_after,
        ).encode()
        database = self.result_database
        if database is not None:
            await database_sync_to_async(_store.create_record)(result, database, task.run_after)
        try:
            await self._send(task, message)
        except BaseException:
            # Nothing will ever run it: leave no READY row behind that would wait forever.
            if database is not None:
                await database_sync_to_async(_store.delete_record)(result.id, database)
            raise
        await task_enqueued.asend(type(self), task_result=result)
        return result

    def _new_result(self, task: AnyTask, args: Sequence[Any], kwargs: dict[str, Any]) -> AnyResult:
        arguments = {"args": normalize_json(list(args)), "kwargs": normalize_json(dict(kwargs))}
        try:
            round_tripped = json.loads(json.dumps(arguments))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Task arguments must be JSON serializable: {exc}") from exc
        if round_tripped != arguments:
            raise TypeError(
                f"Task arguments must survive a JSON round trip unchanged, got {arguments!r:.200}"
            )
        return _store.new_result(
            task,
            get_random_string(32),
            READY,
            arguments,
            enqueued_at=timezone.now(),
        )

    async def _send(self, task: AnyTask, message: dict[str, Any]) -> None:
        channel = task_channel(task.queue_name)
        delay_ms = _delay_ms(task.run_after)
        if delay_ms > 0:
            # Longer than the delay server's limit: the worker sends it back for the rest.
            await send_delayed(
                channel, message, min(delay_ms, MAX_DELAY_MS), alias=self.channel_layer_alias
            )
            return
        layer = get_channel_layer(self.channel_layer_alias)
        if layer is None:
            raise ImproperlyConfigured(
                f"Task backend {self.alias!r} sends on channel layer "
                f"{self.channel_layer_alias!r}, which is not in CHANNEL_LAYERS"
            )
        await layer.send(channel, message)

    # Results -----------------------------------------------------------------------

    def get_result(self, result_id: str) -> AnyResult:
        if self.result_database is None:
            raise NotImplementedError(
                f"Task backend {self.alias!r} stores no results: set "
                "OPTIONS['RESULT_DATABASE'] and add 'channels.tasks' to INSTALLED_APPS"
            )
        return _store.load_result(result_id, self.result_database)

    async def aget_result(self, result_id: str) -> AnyResult:
        return await database_sync_to_async(self.get_result)(result_id)


def _delay_ms(run_after: datetime.datetime | None) -> int:
    """Milliseconds from now until *run_after* (0 when it is absent or past)."""
    if run_after is None:
        return 0
    now = timezone.now() if timezone.is_aware(run_after) else datetime.datetime.now()
    return max(0, int((run_after - now).total_seconds() * 1000))
