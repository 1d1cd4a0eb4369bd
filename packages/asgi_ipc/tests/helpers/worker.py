"""A runworker-style consumer: take jobs from a normal channel, answer each.

Usage: worker.py PREFIX   (stops on a {"stop": True} job)
"""

from __future__ import annotations

import asyncio
import os
import sys

from asgi_ipc.core import IPCChannelLayer


async def main() -> None:
    layer = IPCChannelLayer(
        prefix=sys.argv[1], message_memory=1 << 20, group_memory=1 << 18, capacity=1000
    )
    await layer.send("workers.ready", {"pid": os.getpid()})
    while True:
        job = await layer.receive("workers.jobs")
        if job.get("stop"):
            break
        await layer.send(job["reply"], {"job": job["job"], "pid": os.getpid()})
    await layer.close()


asyncio.run(main())
