"""An ASGI application that tells which process served a request (for ``--workers`` tests).

``/`` answers the serving process's pid; ``/slow?s=N`` answers it after N seconds, and first
appends ``started <pid>`` to the file named by ``?mark=``, so a test knows it is in flight.
``/hold?s=N`` does the same but blocks its whole process meanwhile (no ``await``), so that the
next connection is necessarily accepted by another worker.
"""

from __future__ import annotations

import asyncio
import os
import time
from urllib.parse import parse_qs


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    if scope["path"] in ("/slow", "/hold"):
        if "mark" in query:
            with open(query["mark"], "a") as mark:
                mark.write(f"started {os.getpid()}\n")
        seconds = float(query.get("s", "1"))
        if scope["path"] == "/hold":
            time.sleep(seconds)
        else:
            await asyncio.sleep(seconds)
    body = str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
