"""An ASGI application that reports the garbage collector's set-up (for ``test_gc.py``).

``GC_APP_THRESHOLDS`` (``"a,b,c"``), when set, is applied at import, as an application that
chooses its own thresholds would. Each response is JSON: the thresholds, the number of frozen
objects, whether a module-level object made at import is frozen, and whether the collector
is enabled.
"""

from __future__ import annotations

import gc
import json
import os

if os.environ.get("GC_APP_THRESHOLDS"):
    first, second, third = (int(part) for part in os.environ["GC_APP_THRESHOLDS"].split(","))
    gc.set_threshold(first, second, third)
if os.environ.get("GC_APP_DISABLE"):
    gc.disable()

MADE_AT_IMPORT: dict[str, list[int]] = {"marker": [1, 2, 3]}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    tracked_young = any(MADE_AT_IMPORT is obj for obj in gc.get_objects())
    body = json.dumps(
        {
            "thresholds": list(gc.get_threshold()),
            "frozen": gc.get_freeze_count(),
            "import_object_collectable": tracked_young,
            "enabled": gc.isenabled(),
        }
    ).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
