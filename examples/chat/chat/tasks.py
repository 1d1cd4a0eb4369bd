"""The chat's background task: the moderation check of one message.

The consumer enqueues it after broadcasting the message; ``manage.py runworker --tasks
moderation`` runs it in the worker process, which sends the verdict to the room's group
over the same channel layer, so every open page marks the message. Imported only when
``settings.CHAT_MODERATION`` is on: ``django.tasks`` exists from Django 6.0.
"""

from __future__ import annotations

from typing import Any

from channels.layers import get_channel_layer
from chatsite.tasking import MODERATION_QUEUE
from django.tasks import TaskContext, task

from chat.moderation import review
from chat.protocol import group_for_room

__all__ = ["check_message"]


@task(queue_name=MODERATION_QUEUE, takes_context=True)
async def check_message(
    context: TaskContext[Any, Any], room: str, message_id: str, text: str
) -> dict[str, str]:
    """Review *text* and tell *room* the verdict on message *message_id*."""
    verdict = review(text)
    # The worker's id (host:pid:...), shown on the page: the check ran in the worker.
    worker = context.task_result.worker_ids[-1]
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("CHANNEL_LAYERS has no default layer to send the verdict on")
    await layer.group_send(
        group_for_room(room),
        {
            "type": "chat.moderation",
            "id": message_id,
            "verdict": verdict.verdict,
            "reason": verdict.reason,
            "worker": worker,
        },
    )
    return {"verdict": verdict.verdict, "reason": verdict.reason}
