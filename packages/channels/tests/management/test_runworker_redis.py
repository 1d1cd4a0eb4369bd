"""runworker in its own process, fed through Redis by a consumer in this one.

Needs Redis (127.0.0.1:6379 or ASGI_REDIS_URL) and asgi_redis; marked slow
because the default CI selection installs neither for this package.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import override_settings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("db")]


async def test_consumer_triggers_a_task_in_a_separate_worker_process(
    redis_process_setup: Any,
) -> None:
    from channels_tests_app import BACKGROUND_CHANNEL, application

    layer_config, env = redis_process_setup("channels-tests")
    worker = subprocess.Popen(
        [sys.executable, "-m", "django", "runworker", BACKGROUND_CHANNEL],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None
        for line in worker.stderr:
            if "Listening on channels" in line:
                break
        with override_settings(CHANNEL_LAYERS={"default": layer_config}):
            first = WebsocketCommunicator(application, "/ws/chat/far/",
                                          headers=[(b"origin", b"http://localhost")])  # fmt: skip
            assert (await first.connect())[0]
            await first.send_json_to({"shout": "from afar"})
            reply = await first.receive_json_from(timeout=30)
            assert reply == {"message": "FROM AFAR", "user": "worker"}
            await first.disconnect()
            layer = get_channel_layer()
            assert layer is not None
            await layer.flush()
            await layer.close()
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        assert worker.stderr is not None
        worker.stderr.close()
