"""The same work as a django task and as a plain runworker consumer.

Both report back on the ``bench-done`` channel how long after it was sent
the work started, so the bench measures the path, not the work.
"""

from __future__ import annotations

import time
from typing import Any

from channels.consumer import AsyncConsumer
from channels.layers import get_channel_layer
from channels.routing import ChannelNameRouter
from django.tasks import task

DONE = "bench-done"
PLAIN = "bench-plain"


async def _report(sent_at: float) -> None:
    started = time.time()
    layer = get_channel_layer()
    assert layer is not None
    await layer.send(DONE, {"type": "done", "latency": started - sent_at})


@task
async def work(sent_at: float) -> None:
    await _report(sent_at)


class PlainWork(AsyncConsumer):
    async def work(self, message: dict[str, Any]) -> None:
        await _report(message["sent_at"])


application = ChannelNameRouter({PLAIN: PlainWork.as_asgi()})
