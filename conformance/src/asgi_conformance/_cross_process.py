"""Conformance tests across layer objects and across OS processes.

The peer process (:mod:`asgi_conformance.peer`) rebuilds the layer from
``layer_path`` and ``layer_kwargs`` (so both must survive JSON), joins a group
with a process-local channel and echoes what it receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from asgiref.layers import non_local_name

from ._harness import Harness

__all__ = ["CrossProcessTests"]

_STARTUP_TIMEOUT = 60.0


@asynccontextmanager
async def _peer(
    layer_path: str, layer_kwargs: Any, inbox: str, group: str | None
) -> AsyncIterator[dict[str, Any]]:
    """Start a peer process and yield its ready line (``local``, ``pid``)."""
    try:
        kwargs_json = json.dumps(dict(layer_kwargs))
    except TypeError as exc:
        raise TypeError(
            f"layer_kwargs must be JSON-serializable for the peer process: {exc}"
        ) from exc
    argv = ["-m", "asgi_conformance.peer", "--layer-path", layer_path]
    argv += ["--layer-kwargs", kwargs_json, "--inbox", inbox]
    if group:
        argv += ["--group", group]
    env = dict(os.environ)
    # The peer must import what this process imports (test-local layers too).
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    # stderr goes to a file, not a pipe: a chatty peer can never block on it.
    with tempfile.TemporaryFile() as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *argv, stdout=asyncio.subprocess.PIPE, stderr=errors, env=env
        )
        exited_early = False
        try:
            assert process.stdout is not None
            try:
                line = await asyncio.wait_for(process.stdout.readline(), _STARTUP_TIMEOUT)
            except asyncio.TimeoutError:
                line = b""
            if not line:
                _kill(process)
                await process.wait()
                pytest.fail(f"the peer process did not start ({layer_path}):\n{_read(errors)}")
            yield json.loads(line)
        finally:
            exited_early = process.returncode not in (None, 0)
            _kill(process)
            await process.wait()
            if exited_early:
                # Shown by pytest with the failing test's output.
                print(f"peer process exited with {process.returncode}:\n{_read(errors)}")


def _kill(process: asyncio.subprocess.Process) -> None:
    # The peer may exit between our looking and our killing it.
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()


def _read(errors: Any) -> str:
    errors.seek(0)
    text: str = errors.read().decode(errors="replace")
    return text


class CrossProcessTests(Harness):
    """Two layer objects, and two OS processes, sharing one configuration."""

    __test__ = False

    def test_two_layer_objects_share_channels(self) -> None:
        """A message sent through one layer object is received through another."""
        self.require("cross_process")

        async def body(layer: Any) -> None:
            other = self.make_layer()
            try:
                channel = self.name("shared")
                await layer.send(channel, {"type": "test.between-objects"})
                await self.expect(other, channel, {"type": "test.between-objects"})
            finally:
                await other.close()

        self.run(body)

    async def _ping(
        self, layer: Any, target: str, reply_to: str, via: str, group: str | None = None
    ) -> None:
        payload = {"text": "ping ✓", "raw": b"\x00\xff", "n": [1, 2]}
        ping = {"type": "conformance.ping", "reply_to": reply_to, "payload": payload}
        if group is None:
            await layer.send(target, ping)
        else:
            await layer.group_send(group, ping)
        echo = await self.receive(layer, reply_to)
        assert echo["type"] == "conformance.echo", echo
        assert echo["via"] == via, f"expected the peer to answer via {via}, got {echo}"
        assert echo["payload"] == payload, f"payload changed on the way: {echo['payload']!r}"
        assert echo["pid"] != os.getpid(), "the echo came from this process, not the peer"

    def test_cross_process_normal_channel(self) -> None:
        """A normal channel carries messages to and from another OS process."""
        self.require("cross_process")

        async def body(layer: Any) -> None:
            inbox, reply_to = self.name("peer-inbox"), self.name("reply")
            async with _peer(self.layer_path, self.layer_kwargs, inbox, None):
                for _ in range(3):
                    await self._ping(layer, inbox, reply_to, "inbox")
                await layer.send(inbox, {"type": "conformance.stop"})

        self.run(body)

    def test_cross_process_process_local_channel(self) -> None:
        """Process-local channels reach another process, whose names differ from ours."""
        self.require("cross_process", "process_local")

        async def body(layer: Any) -> None:
            inbox = self.name("peer-inbox")
            reply_to = await layer.new_channel()
            async with _peer(self.layer_path, self.layer_kwargs, inbox, None) as ready:
                # The peer used this prefix too: only the process part may differ.
                this_process = non_local_name(await layer.new_channel("conformance.peer."))
                peer_process = non_local_name(ready["local"])
                assert peer_process != this_process, (
                    f"two processes got the same process-local prefix {this_process!r}: "
                    "messages for one would be routed to the other"
                )
                for _ in range(3):
                    await self._ping(layer, ready["local"], reply_to, "local")
                await layer.send(inbox, {"type": "conformance.stop"})

        self.run(body)

    def test_cross_process_group(self) -> None:
        """group_send() reaches a member channel held by another OS process."""
        self.require("cross_process", "groups")

        async def body(layer: Any) -> None:
            inbox, group, reply_to = self.name("peer-inbox"), self.name("group"), self.name("reply")
            async with _peer(self.layer_path, self.layer_kwargs, inbox, group):
                for _ in range(3):
                    await self._ping(layer, "", reply_to, "local", group=group)
                await layer.send(inbox, {"type": "conformance.stop"})

        self.run(body)
