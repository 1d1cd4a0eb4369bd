"""Normal channels are shared work queues: competing workers split the messages."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from asgi_rabbitmq.core import RabbitmqChannelLayer

WORKER = str(Path(__file__).with_name("worker_peer.py"))


async def _start_worker(broker: str, prefix: str, channel: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        WORKER,
        broker,
        prefix,
        channel,
        "1000",
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    assert json.loads(line) == {"ready": True}, f"worker did not start: {line!r}"
    return process


async def _jobs_of(process: asyncio.subprocess.Process) -> list[int]:
    assert process.stdout is not None
    output = await asyncio.wait_for(process.stdout.read(), 60)
    await process.wait()
    assert process.returncode == 0
    return [json.loads(line)["job"] for line in output.splitlines()]


async def test_each_message_is_consumed_by_exactly_one_of_two_workers(
    broker: str, prefix: str
) -> None:
    channel = "tasks.thumbnail"
    workers = [await _start_worker(broker, prefix, channel) for _ in range(2)]
    layer = RabbitmqChannelLayer(broker, prefix=prefix, capacity=1000)
    try:
        for job in range(200):
            await layer.send(channel, {"type": "job", "job": job})
        # One stop each: a worker leaves at its first stop, so the other one
        # (still consuming) gets the second.
        for _ in workers:
            await layer.send(channel, {"type": "stop"})
        first, second = [await _jobs_of(worker) for worker in workers]
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
        await layer.flush()
        await layer.close()
    assert sorted(first + second) == list(range(200)), "a job was lost or done twice"
    assert not set(first) & set(second)
    # Competing consumers with prefetch one: both workers take part.
    assert first and second, f"one worker got every job: {len(first)} / {len(second)}"
    assert first == sorted(first) and second == sorted(second)


async def test_a_worker_that_dies_hands_its_held_message_back(broker: str, prefix: str) -> None:
    channel = "tasks.fragile"
    worker = await _start_worker(broker, prefix, channel)
    layer = RabbitmqChannelLayer(broker, prefix=prefix, capacity=1000)
    try:
        await layer.send(channel, {"type": "job", "job": 0, "then": "hang"})
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), 30)
        assert json.loads(line) == {"job": 0}
        # The worker's consumer now holds job 1 (prefetch one) without acking it.
        await layer.send(channel, {"type": "job", "job": 1})
        await asyncio.sleep(0.5)
        worker.kill()
        await worker.wait()
        got = await asyncio.wait_for(layer.receive(channel), 30)
        assert got == {"type": "job", "job": 1}
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
        await layer.flush()
        await layer.close()
