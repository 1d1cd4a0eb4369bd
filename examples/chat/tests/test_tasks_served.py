"""The background moderation check, end to end across real processes (Django 6.0+).

A daphne process serves the chat, ``manage.py runworker --tasks moderation`` (what
scripts/demo starts) runs the task, and the verdict comes back over the channel layer
to every socket in the room. The verdict carries the id of the worker that ran it
(host:pid:...), so the tests see that the check ran in the worker process and not in
the server. Absence is proved by ordering, as in test_served.py.

Collected only where django.tasks exists (see conftest.py's report header).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, Protocol

import pytest

pytestmark = pytest.mark.tasks


class Start(Protocol):
    """The ``daphne_servers`` fixture."""

    def __call__(self, layer_env: Mapping[str, str], *, worker: bool = False) -> Any: ...


def worker_pid(frame: dict[str, Any]) -> int:
    # host:pid:suffix, as channels.tasks names its workers
    return int(frame["worker"].rsplit(":", 2)[1])


async def checked_in_the_worker(start: Start, env: Mapping[str, str], ws: ModuleType) -> None:
    server = start(env)
    worker = start(env, worker=True)
    alice = await ws.join(server.ws_url, "checked", origin=server.url)
    bob = await ws.join(server.ws_url, "checked", origin=server.url)
    carol = await ws.join(server.ws_url, "elsewhere", origin=server.url)

    await alice.say("hello there")
    message = await alice.next_frame()
    assert message["type"] == "message" and message["message"] == "hello there"
    assert await bob.next_frame() == message
    verdict = await alice.next_frame()
    assert verdict == {
        "type": "moderation",
        "id": message["id"],
        "verdict": "ok",
        "reason": "",
        "worker": verdict["worker"],
    }
    assert worker_pid(verdict) == worker.process.pid != server.process.pid
    assert await bob.next_frame() == verdict

    await bob.say("STOP SHOUTING AT ME")
    shouted = await bob.next_frame()
    assert await alice.next_frame() == shouted
    flagged = await bob.next_frame()
    assert (flagged["id"], flagged["verdict"]) == (shouted["id"], "flagged")
    assert flagged["reason"] == "shouting (all capitals)"
    assert await alice.next_frame() == flagged

    # Carol's room got neither message nor verdict: her own come first.
    await carol.say("quiet here")
    assert (await carol.next_frame())["message"] == "quiet here"
    assert (await carol.next_frame())["type"] == "moderation"
    for client in (alice, bob, carol):
        await client.close()


@pytest.mark.redis_layer
async def test_a_message_is_checked_in_the_worker_over_redis(
    daphne_servers: Start, redis_layer_env: dict[str, str], ws_client: ModuleType
) -> None:
    await checked_in_the_worker(daphne_servers, redis_layer_env, ws_client)


@pytest.mark.ipc_layer
async def test_a_message_is_checked_in_the_worker_over_ipc(
    ipc_layer_env: dict[str, str], daphne_servers: Start, ws_client: ModuleType
) -> None:
    await checked_in_the_worker(daphne_servers, ipc_layer_env, ws_client)


async def test_without_a_worker_messages_still_flow_and_wait_for_their_check(
    daphne_servers: Start, redis_layer_env: dict[str, str], ws_client: ModuleType
) -> None:
    """The check is background work: chat never waits for it, and a late worker catches up."""
    server = daphne_servers(redis_layer_env)
    alice = await ws_client.join(server.ws_url, "late", origin=server.url)
    await alice.say("before any worker")
    first = await alice.next_frame()
    await alice.say("still no worker")
    second = await alice.next_frame()
    assert [first["message"], second["message"]] == ["before any worker", "still no worker"]
    worker = daphne_servers(redis_layer_env, worker=True)
    verdicts = [await alice.next_frame(), await alice.next_frame()]
    assert [v["id"] for v in verdicts] == [first["id"], second["id"]]
    assert {worker_pid(v) for v in verdicts} == {worker.process.pid}
    await alice.close()


@pytest.mark.browser
@pytest.mark.redis_layer
def test_the_page_shows_the_workers_verdict_on_each_message(
    daphne_servers: Start, redis_layer_env: dict[str, str], browsers: Any
) -> None:
    server = daphne_servers(redis_layer_env)
    worker = daphne_servers(redis_layer_env, worker=True)
    writer, reader = browsers.page(server.url), browsers.page(server.url)
    writer.enter_room("moderated")
    reader.enter_room("moderated")
    assert "background moderation is on" in reader.driver.page_source
    writer.send("a friendly hello")
    writer.send("hello www.a.example www.b.example www.c.example")
    for page in (writer, reader):
        badge, checked_by = page.wait_for_moderation("a friendly hello")
        assert badge == "checked"
        assert f":{worker.process.pid}:" in checked_by
        badge, _ = page.wait_for_moderation("hello www.a.example www.b.example www.c.example")
        assert badge == "flagged: 3 links (at most 2)"
