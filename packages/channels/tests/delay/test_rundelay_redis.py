"""rundelay in its own process, fed and read through Redis by this one.

Needs Redis (127.0.0.1:6379 or ASGI_REDIS_URL) and asgi_redis; marked slow
like the runworker Redis test, because the default CI selection installs
neither for this package. Fails (never skips) saying how to start Redis.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from typing import Any

import pytest
from channels.delay import send_delayed
from channels.layers import get_channel_layer
from django.test import override_settings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("db")]


async def test_a_delayed_message_crosses_processes_through_redis(redis_process_setup: Any) -> None:
    from channels.db import database_sync_to_async
    from channels.delay.models import DelayedMessage

    layer_config, env = redis_process_setup("channels-delay")
    server = subprocess.Popen(
        [sys.executable, "-m", "django", "rundelay"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stderr is not None
        for line in server.stderr:
            if "Delay server listening" in line:
                break
        with override_settings(CHANNEL_LAYERS={"default": layer_config}):
            layer = get_channel_layer()
            await send_delayed("delayed-target", {"type": "ping", "data": b"\x00"}, 200)
            message = await asyncio.wait_for(layer.receive("delayed-target"), 30)
            assert message == {"type": "ping", "data": b"\x00"}
            # The server sends first and deletes the row after (at-least-once), so the row
            # may still be there for a moment after the message arrived.
            count = database_sync_to_async(DelayedMessage.objects.count)
            for _ in range(200):
                if await count() == 0:
                    break
                await asyncio.sleep(0.05)
            assert await count() == 0
            await layer.flush()
            await layer.close()
        server.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(server.wait, 60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        assert server.stderr is not None
        server.stderr.close()
