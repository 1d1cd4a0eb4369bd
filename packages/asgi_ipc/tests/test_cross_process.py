"""Several worker processes share one normal channel, as runworker does."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from asgi_ipc.core import IPCChannelLayer

WORKER = Path(__file__).parent / "helpers" / "worker.py"


async def test_workers_in_other_processes_each_job_is_done_exactly_once(
    make_layer: Callable[..., IPCChannelLayer], prefix: str, python: str
) -> None:
    layer = make_layer(capacity=1000)
    workers = [await asyncio.create_subprocess_exec(python, str(WORKER), prefix) for _ in range(3)]
    try:
        ready = {
            (await asyncio.wait_for(layer.receive("workers.ready"), 30))["pid"] for _ in workers
        }
        assert ready == {worker.pid for worker in workers}
        reply = await layer.new_channel()

        async def collect() -> list[dict[str, int]]:
            return [await asyncio.wait_for(layer.receive(reply), 30) for _ in range(300)]

        collecting = asyncio.create_task(collect())
        for job in range(300):
            await layer.send("workers.jobs", {"job": job, "reply": reply})
        answers = await collecting
        assert sorted(answer["job"] for answer in answers) == list(range(300))
        by_worker = Counter(answer["pid"] for answer in answers)
        assert set(by_worker) <= ready
        for _ in workers:
            await layer.send("workers.jobs", {"stop": True})
        assert [await asyncio.wait_for(worker.wait(), 30) for worker in workers] == [0, 0, 0]
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    assert layer.check_integrity()["messages"] == 0
