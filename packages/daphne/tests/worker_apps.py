"""An ASGI application that tells which process served a request (for ``--workers`` tests).

``/`` answers the serving process's pid; ``/slow?s=N`` answers it after N seconds, and first
appends ``started <pid>`` to the file named by ``?mark=``, so a test knows it is in flight.
"""

from __future__ import annotations

import asyncio
import os
from urllib.parse import parse_qs


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    if scope["path"] == "/slow":
        if "mark" in query:
            with open(query["mark"], "a") as mark:
                mark.write(f"started {os.getpid()}\n")
        await asyncio.sleep(float(query.get("s", "1")))
    body = str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
