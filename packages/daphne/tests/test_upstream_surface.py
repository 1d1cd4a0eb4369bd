"""Upstream Daphne's public names and the behaviours behind them, over real sockets."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.utils import header_value, parse_x_forwarded_for
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol

APP = "surface_apps:app"
BODY = b"The quick brown fox jumps over the lazy dog"


def test_request_buffer_size_caps_the_body_of_each_request_message(pool, stack):
    host, port = pool.get(APP, request_buffer_size=10, **stack)
    response = httpx.post(f"http://{host}:{port}/messages", content=BODY)
    assert response.json() == [[10, True], [10, True], [10, True], [10, True], [3, False]]


def test_request_bodies_arrive_in_messages_of_at_most_8192_bytes_by_default(pool, stack):
    host, port = pool.get(APP, **stack)
    sizes = httpx.post(f"http://{host}:{port}/messages", content=b"x" * 50_000).json()
    assert sum(size for size, _ in sizes) == 50_000
    assert max(size for size, _ in sizes) <= 8192
    assert [more for _, more in sizes] == [True] * (len(sizes) - 1) + [False]


def test_scope_addresses_are_host_port_lists(pool, stack):
    host, port = pool.get(APP, **stack)
    addresses = httpx.get(f"http://{host}:{port}/addresses").json()
    assert addresses["client"][0] == "list"
    assert addresses["client"][1][0] == "127.0.0.1"
    assert addresses["server"] == ["list", ["127.0.0.1", port]]


def test_forwarded_address_without_a_forwarded_port_has_port_zero(pool, stack):
    host, port = pool.get(
        APP,
        proxy_forwarded_address_header="X-Forwarded-For",
        proxy_forwarded_port_header="X-Forwarded-Port",
        **stack,
    )
    url = f"http://{host}:{port}/addresses"
    alone = httpx.get(url, headers={"X-Forwarded-For": "10.1.2.3"}).json()
    assert alone["client"] == ["list", ["10.1.2.3", 0]]
    with_port = httpx.get(url, headers={"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Port": "80"})
    assert with_port.json()["client"] == ["list", ["10.1.2.3", 80]]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/str-name", "Header name 'foo' expected to be `bytes`, but got `<class 'str'>`"),
        ("/bool-value", "Header value 'True' expected to be `bytes`, but got `<class 'bool'>`"),
    ],
)
def test_response_headers_that_are_not_bytes_raise_value_error(pool, stack, path, message):
    host, port = pool.get(APP, **stack)
    name, is_value_error, text = httpx.get(f"http://{host}:{port}{path}").json()
    assert is_value_error, name
    assert text == message


def test_parse_x_forwarded_for_reads_twisted_headers_and_dicts():
    from twisted.web.http_headers import Headers

    headers = Headers(
        {
            b"X-Forwarded-For": [b"10.1.2.3, 10.0.0.1"],
            b"X-Forwarded-Port": [b"1234"],
            b"X-Forwarded-Proto": [b"https"],
        }
    )
    assert parse_x_forwarded_for(headers) == (["10.1.2.3", 1234], "https")
    assert parse_x_forwarded_for({b"X-Forwarded-For": b"1043::a321:0001"}) == (
        ["1043::a321:0001", 0],
        None,
    )
    assert parse_x_forwarded_for({}, original_addr=["127.0.0.1", 80]) == (["127.0.0.1", 80], None)
    assert parse_x_forwarded_for({b"x-real-ip": b"10.9.9.9"}, "X-Real-IP", None, None) == (
        ["10.9.9.9", 0],
        None,
    )
    assert parse_x_forwarded_for({b"x-forwarded-for": b"10.1.1.1"}, None) == (None, None)
    assert header_value({b"a": [b"first", b"second"]}, b"a") == "first"
    assert header_value({b"a": "é".encode()}, b"a") == "é"


def test_web_request_keeps_upstream_attributes():
    class Server:
        pass

    class Factory:
        server = Server()

    class Channel:
        factory = Factory()
        transport = None

        def getPeer(self):
            return None

        def getHost(self):
            return None

    request = WebRequest(Channel())
    assert request.client_addr is None and request.server_addr is None
    assert request.server is Channel.factory.server


def test_factories_keep_upstream_signatures():
    from daphne.server import Server

    actions = []
    server = Server(
        lambda scope, receive, send: None,
        ["tcp:0"],
        action_logger=lambda *args: actions.append(args),
    )
    assert HTTPFactory(server).server is server
    factory = WebSocketFactory(server, server="edge", protocols=["chat"])
    assert factory.server_class is server
    assert factory.protocol is WebSocketProtocol
    factory.log_action("websocket", "connected", {"path": "/"})
    assert actions == [("websocket", "connected", {"path": "/"})]


def test_server_takes_websocket_limits_in_upstream_positional_order():
    from daphne.server import Server

    positional = [True, None, None, 8192, 86400, 20, 20, 30, "", None, None, None, 1, 5]
    server = Server(lambda scope, receive, send: None, ["tcp:0"], *positional, 1024, 2048, 7)
    assert server.config.websocket_max_message_size == 1024
    assert server.config.websocket_max_frame_size == 2048
    assert server.config.application_close_timeout == 7


TWISTED_LOOP_SCRIPT = r"""
import asyncio, threading, time
import daphne.server
from daphne.server import Server, twisted_loop

assert twisted_loop is daphne.server.twisted_loop
def work():
    time.sleep(0.05)
    return threading.get_ident()
async def spread():
    return await asyncio.gather(*(twisted_loop.run_in_executor(None, work) for _ in range(6)))
threads = len(set(twisted_loop.run_until_complete(spread())))
seen = []
def ready():
    from daphne.http_protocol import HTTPFactory
    from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
    seen.append(asyncio.get_running_loop() is twisted_loop)
    seen.append(isinstance(server.http_factory, HTTPFactory))
    seen.append(isinstance(server.ws_factory, WebSocketFactory))
    seen.append(server.ws_factory.protocol is WebSocketProtocol)
    server.reactor.stop()
server = Server(lambda s, r, se: None, ["tcp:port=0:interface=127.0.0.1"],
                signal_handlers=False, ready_callable=ready)
server.run()
print(threads, seen)
"""


def test_the_server_runs_on_twisted_loop_with_asgi_threads_and_upstreams_factories():
    import os

    result = subprocess.run(
        [sys.executable, "-c", TWISTED_LOOP_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ASGI_THREADS": "2"},
    )
    assert result.stdout.split(None, 1) == ["2", "[True, True, True, True]\n"], result.stderr


FD_PLUGIN_SCRIPT = r"""
import socket
from daphne._reactor import install_asyncio_reactor
from twisted.internet.endpoints import AdoptedStreamServerEndpoint, serverFromString
reactor = install_asyncio_reactor()
listener = socket.socket()
endpoint = serverFromString(reactor, f"fd:fileno={listener.fileno()}:domain=INET")
print(type(endpoint).__name__, endpoint.addressFamily == socket.AF_INET)
"""


def test_twisted_understands_fd_endpoints_through_the_installed_plugin():
    result = subprocess.run(
        [sys.executable, "-c", FD_PLUGIN_SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "AdoptedStreamServerEndpoint True", result.stderr


@pytest.mark.parametrize("target", [b"/\xc3\xa4\xc3\xb6", b"/?q=\xc3\xa4"])
def test_a_request_target_with_non_ascii_bytes_is_a_bad_request(pool, stack, raw, target):
    host, port = pool.get(APP, **stack)
    response = raw((host, port), b"GET " + target + b" HTTP/1.0\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")


async def test_a_received_websocket_message_carries_only_the_key_it_uses(pool, stack):
    import json

    import websockets

    host, port = pool.get(APP, **stack)
    async with websockets.connect(f"ws://{host}:{port}/") as socket:
        await socket.send(b"\x00\xff")
        assert json.loads(await socket.recv()) == ["bytes", "type"]
        await socket.send("text")
        assert json.loads(await socket.recv()) == ["text", "type"]
