"""The test application plus ``/rss``: the server process's own memory, for hostile-input tests.

``peak_kib`` is the process's high-water resident set (``ru_maxrss``), which only grows, so a
test can compare it before and after an attack without depending on when memory is returned
to the operating system.
"""

from __future__ import annotations

import json
import resource

from daphne_test_apps import app as _app


def _memory() -> dict[str, int]:
    rss = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return {"peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "rss_kib": rss}


async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/rss":
        body = json.dumps(_memory()).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        return
    await _app(scope, receive, send)
