"""The demo served by the real ``daphne`` command on a real socket.

``curl``-like HTTP requests and a plain WebSocket client (the ``websockets`` library);
with a cross-process layer, two daphne processes share rooms.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Protocol

import pytest


class Start(Protocol):
    """The ``daphne_servers`` fixture: start a server process, get it serving."""

    def __call__(self, layer_env: Mapping[str, str], *, runserver: bool = False) -> Any: ...


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def test_index_and_room_pages_over_http(daphne_servers: Start) -> None:
    server = daphne_servers({})
    status, body = http_get(server.url + "/")
    assert status == 200
    assert "Which chat room would you like to enter?" in body
    status, body = http_get(server.url + "/chat/lobby/")
    assert status == 200 and 'id="chat-log"' in body
    assert http_get(server.url + "/chat/not a room/".replace(" ", "%20"))[0] == 404


async def test_websocket_clients_share_a_room(daphne_servers: Start, ws_client: ModuleType) -> None:
    server = daphne_servers({})
    origin = server.url
    alice = await ws_client.join(server.ws_url, "served", origin=origin)
    bob = await ws_client.join(server.ws_url, "served", origin=origin)
    carol = await ws_client.join(server.ws_url, "elsewhere", origin=origin)
    assert alice.welcome["user"] == "anonymous"

    await alice.say("over a real socket")
    for client in (alice, bob):
        frame = await client.next_frame()
        assert frame == {
            "type": "message",
            "id": frame["id"],
            "room": "served",
            "user": "anonymous",
            "message": "over a real socket",
        }
    await carol.say("carol only")
    assert (await carol.next_frame())["message"] == "carol only"

    await bob.send_raw("garbage")
    assert (await bob.next_frame())["type"] == "error"
    await bob.say("after garbage")
    assert (await alice.next_frame())["message"] == "after garbage"
    assert (await bob.next_frame())["message"] == "after garbage"
    for client in (alice, bob, carol):
        await client.close()


async def test_runserver_serves_http_and_websockets_through_daphne(
    daphne_servers: Start, ws_client: ModuleType
) -> None:
    server = daphne_servers({}, runserver=True)
    status, body = http_get(server.url + "/")
    assert status == 200 and "Which chat room would you like to enter?" in body
    client = await ws_client.join(server.ws_url, "dev", origin=server.url)
    await client.say("via runserver")
    assert (await client.next_frame())["message"] == "via runserver"
    await client.close()


async def test_foreign_origin_is_refused_and_server_keeps_serving(
    daphne_servers: Start, ws_client: ModuleType
) -> None:
    from websockets.exceptions import InvalidStatus

    server = daphne_servers({})
    with pytest.raises(InvalidStatus) as info:
        await ws_client.join(server.ws_url, "lobby", origin="http://evil.example")
    assert info.value.response.status_code == 403
    client = await ws_client.join(server.ws_url, "lobby", origin=server.url)
    await client.close()


async def test_unknown_socket_paths_are_refused_and_server_keeps_serving(
    daphne_servers: Start, ws_client: ModuleType
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    server = daphne_servers({})
    for path in ("/ws/chat/bad.room/", "/ws/chat/" + "x" * 65 + "/", "/ws/nope/"):
        with pytest.raises(InvalidStatus) as info:
            await connect(server.ws_url + path, origin=server.url)
        assert info.value.response.status_code == 403, path
    client = await ws_client.join(server.ws_url, "lobby", origin=server.url)
    await client.say("still serving")
    assert (await client.next_frame())["message"] == "still serving"
    await client.close()


async def two_processes_share_rooms(start: Start, env: Mapping[str, str], ws: ModuleType) -> None:
    first, second = start(env), start(env)
    alice = await ws.join(first.ws_url, "shared", origin=first.url)
    bob = await ws.join(second.ws_url, "shared", origin=second.url)
    carol = await ws.join(second.ws_url, "private", origin=second.url)

    await alice.say("from process one")
    assert (await bob.next_frame())["message"] == "from process one"
    assert (await alice.next_frame())["message"] == "from process one"
    await bob.say("from process two")
    assert (await alice.next_frame())["message"] == "from process two"
    assert (await bob.next_frame())["message"] == "from process two"
    await carol.say("private")
    assert (await carol.next_frame())["message"] == "private"
    await bob.say("last")
    assert (await alice.next_frame())["message"] == "last"
    for client in (alice, bob, carol):
        await client.close()


@pytest.mark.redis_layer
async def test_two_daphne_processes_share_rooms_over_redis(
    daphne_servers: Start, redis_layer_env: dict[str, str], ws_client: ModuleType
) -> None:
    await two_processes_share_rooms(daphne_servers, redis_layer_env, ws_client)


@pytest.mark.ipc_layer
async def test_two_daphne_processes_share_rooms_over_ipc(
    ipc_layer_env: dict[str, str], daphne_servers: Start, ws_client: ModuleType
) -> None:
    await two_processes_share_rooms(daphne_servers, ipc_layer_env, ws_client)


@pytest.mark.rabbitmq_layer
async def test_two_daphne_processes_share_rooms_over_rabbitmq(
    daphne_servers: Start, rabbitmq_layer_env: dict[str, str], ws_client: ModuleType
) -> None:
    await two_processes_share_rooms(daphne_servers, rabbitmq_layer_env, ws_client)
