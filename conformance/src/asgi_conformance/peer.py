"""The other process of the cross-process conformance tests.

Run as ``python -m asgi_conformance.peer --layer-path P --layer-kwargs JSON
--inbox CHANNEL --group GROUP``. The peer builds the layer, makes a
process-local channel with ``new_channel()``, adds it to GROUP (when given),
prints one JSON line ``{"ready": true, "local": NAME, "pid": PID}`` and then
answers every ``{"type": "conformance.ping", "reply_to": C, "payload": X}``
arriving on the inbox or on its local channel by sending
``{"type": "conformance.echo", "via": "inbox"|"local", "payload": X, "pid": PID}``
to C. ``{"type": "conformance.stop"}`` ends it, and so does ``--lifetime``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from typing import Any

__all__ = ["main", "serve"]


def build_layer(layer_path: str, layer_kwargs: dict[str, Any]) -> Any:
    """Import ``layer_path`` and instantiate it with ``layer_kwargs``."""
    module_name, _, attr = layer_path.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)(**layer_kwargs)


async def _answer(layer: Any, channel: str, via: str, stop: asyncio.Event) -> None:
    while not stop.is_set():
        message = await layer.receive(channel)
        if message.get("type") == "conformance.stop":
            stop.set()
            return
        if message.get("type") == "conformance.ping":
            reply = {
                "type": "conformance.echo",
                "via": via,
                "payload": message.get("payload"),
                "pid": os.getpid(),
            }
            await layer.send(message["reply_to"], reply)


async def serve(
    layer_path: str, layer_kwargs: dict[str, Any], inbox: str, group: str | None, lifetime: float
) -> None:
    """Run the peer until stopped or until *lifetime* seconds have passed."""
    layer = build_layer(layer_path, layer_kwargs)
    stop = asyncio.Event()
    try:
        local = await layer.new_channel("conformance.peer.")
        if group:
            await layer.group_add(group, local)
        print(json.dumps({"ready": True, "local": local, "pid": os.getpid()}), flush=True)
        tasks = [
            asyncio.ensure_future(_answer(layer, inbox, "inbox", stop)),
            asyncio.ensure_future(_answer(layer, local, "local", stop)),
        ]
        try:
            await asyncio.wait(tasks, timeout=lifetime, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await layer.close()


def main(argv: list[str] | None = None) -> int:
    """Parse *argv* (``sys.argv[1:]`` when None), then run the peer until it is stopped.

    Returns 0 once ``conformance.stop`` arrived or ``--lifetime`` ran out. A missing
    required option or a ``--layer-kwargs`` that is not a JSON object exits with status 2
    (argparse's usage error); errors building or using the layer propagate.
    """
    parser = argparse.ArgumentParser(prog="python -m asgi_conformance.peer")
    parser.add_argument("--layer-path", required=True)
    parser.add_argument("--layer-kwargs", default="{}", help="JSON object")
    parser.add_argument("--inbox", required=True, help="normal channel to answer on")
    parser.add_argument("--group", default=None, help="group to add the local channel to")
    parser.add_argument("--lifetime", type=float, default=60.0, help="seconds before giving up")
    args = parser.parse_args(argv)
    kwargs = json.loads(args.layer_kwargs)
    if not isinstance(kwargs, dict):
        parser.error(f"--layer-kwargs must be a JSON object, got {args.layer_kwargs!r}")
    asyncio.run(serve(args.layer_path, kwargs, args.inbox, args.group, args.lifetime))
    return 0


if __name__ == "__main__":
    sys.exit(main())
