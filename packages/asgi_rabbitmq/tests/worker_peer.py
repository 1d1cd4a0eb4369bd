"""A stand-alone worker process for test_layer_workers.py (run as a script, never imported).

It receives on one normal channel, like ``runworker``, and prints each job id
as a JSON line until it receives a stop message. A job marked ``"then": "hang"``
makes it stop receiving (while its consumer stays registered) until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys

from asgi_rabbitmq.core import RabbitmqChannelLayer


async def main(url: str, prefix: str, channel: str, capacity: str) -> None:
    layer = RabbitmqChannelLayer(url, prefix=prefix, capacity=int(capacity))
    first = asyncio.ensure_future(layer.receive(channel))
    # The consumer is registered within a moment of the first receive.
    await asyncio.sleep(0.5)
    print(json.dumps({"ready": True}), flush=True)
    message = await first
    while message.get("type") != "stop":
        print(json.dumps({"job": message["job"]}), flush=True)
        if message.get("then") == "hang":
            # Stop receiving but keep consuming: the next message waits here,
            # unacknowledged, until this process is killed.
            await asyncio.Event().wait()
        message = await layer.receive(channel)
    await layer.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
