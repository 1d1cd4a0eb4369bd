"""StatelessServer: instance management, eviction, crash reporting, and a real UDP server."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

import pytest
from asgiref.server import StatelessServer

pytestmark = pytest.mark.timeout(60)


class RecordingServer(StatelessServer):
    application_checker_interval = 0.01

    def __init__(self, application: Any, max_applications: int = 1000) -> None:
        super().__init__(application, max_applications)
        self.sent: list[tuple[str, Any]] = []
        self.reported: list[BaseException] = []

    async def application_send(self, scope: Any, message: Any) -> None:
        self.sent.append((scope["id"], message))

    async def application_exception(
        self, exception: BaseException, application_details: dict[str, Any]
    ) -> None:
        self.reported.append(exception)
        await super().application_exception(exception, application_details)


async def echo(scope: Any, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message == "crash":
            raise RuntimeError(f"crash requested by {scope['id']}")
        if message == "stop":
            return
        await send(message.upper())


async def test_messages_for_one_scope_reach_one_instance() -> None:
    server = RecordingServer(echo)
    queue = server.get_or_create_application_instance("a", {"id": "a"})
    same = server.get_or_create_application_instance("a", {"id": "a"})
    assert queue is same
    await queue.put("hello")
    await asyncio.sleep(0.01)
    assert server.sent == [("a", "HELLO")]
    server.delete_application_instance("a")


async def test_get_or_create_is_a_plain_method_returning_the_input_queue() -> None:
    # Subclasses written for asgiref 3.x call it from handle() without await.
    server = RecordingServer(echo)
    queue = server.get_or_create_application_instance("a", {"id": "a"})
    assert isinstance(queue, asyncio.Queue)
    queue.put_nowait("plain")
    await asyncio.sleep(0.01)
    assert server.sent == [("a", "PLAIN")]
    server.delete_application_instance("a")


async def test_instances_never_exceed_max_applications() -> None:
    server = RecordingServer(echo, max_applications=2)
    for scope_id in ("a", "b", "c"):
        server.get_or_create_application_instance(scope_id, {"id": scope_id})
        assert len(server.application_instances) <= 2
    assert set(server.application_instances) == {"b", "c"}
    for scope_id in list(server.application_instances):
        server.delete_application_instance(scope_id)


async def test_least_recently_used_instance_is_evicted_and_cancelled() -> None:
    server = RecordingServer(echo, max_applications=2)
    server.get_or_create_application_instance("a", {"id": "a"})
    server.get_or_create_application_instance("b", {"id": "b"})
    future_b = server.application_instances["b"]["future"]
    server.get_or_create_application_instance("a", {"id": "a"})  # touch "a"
    server.get_or_create_application_instance("c", {"id": "c"})
    assert set(server.application_instances) == {"a", "c"}
    await asyncio.sleep(0)
    assert future_b.cancelled()
    for scope_id in list(server.application_instances):
        server.delete_application_instance(scope_id)


async def test_crashed_instances_are_reported_and_reaped(caplog: pytest.LogCaptureFixture) -> None:
    server = RecordingServer(echo)
    queue = server.get_or_create_application_instance("x", {"id": "x"})
    finished = server.get_or_create_application_instance("y", {"id": "y"})
    await queue.put("crash")
    await finished.put("stop")
    await asyncio.sleep(0.01)
    with caplog.at_level(logging.ERROR, logger="asgiref.server"):
        await server.check_application_instances()
    assert server.application_instances == {}
    assert [str(e) for e in server.reported] == ["crash requested by x"]
    assert "Exception inside application: crash requested by x" in caplog.text


async def test_a_crash_does_not_stop_other_instances() -> None:
    server = RecordingServer(echo)
    crashing = server.get_or_create_application_instance("bad", {"id": "bad"})
    healthy = server.get_or_create_application_instance("good", {"id": "good"})
    await crashing.put("crash")
    await asyncio.sleep(0.01)
    await server.check_application_instances()
    await healthy.put("still here")
    await asyncio.sleep(0.01)
    assert ("good", "STILL HERE") in server.sent
    server.delete_application_instance("good")


def test_max_applications_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_applications must be >= 1, got 0"):
        StatelessServer(echo, max_applications=0)


async def test_base_class_methods_must_be_implemented() -> None:
    server = StatelessServer(echo)
    with pytest.raises(NotImplementedError, match="handle"):
        await server.handle()
    with pytest.raises(NotImplementedError, match="application_send"):
        await server.application_send({}, {})


class UDPUpperServer(StatelessServer):
    """A real server: one application instance per UDP peer; "quit" stops it."""

    application_checker_interval = 0.01

    def __init__(self, application: Any, sock: socket.socket) -> None:
        super().__init__(application)
        self.sock = sock
        self.transport: asyncio.DatagramTransport | None = None

    async def handle(self) -> None:
        loop = asyncio.get_running_loop()
        datagrams: asyncio.Queue[tuple[bytes, Any]] = asyncio.Queue()

        class Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                datagrams.put_nowait((data, addr))

        transport, _ = await loop.create_datagram_endpoint(Protocol, sock=self.sock)
        self.transport = transport
        try:
            while True:
                data, addr = await datagrams.get()
                if data == b"quit":
                    return
                scope = {"id": f"{addr[0]}:{addr[1]}", "addr": addr}
                queue = self.get_or_create_application_instance(scope["id"], scope)
                await queue.put(data.decode())
        finally:
            transport.close()

    async def application_send(self, scope: Any, message: Any) -> None:
        assert self.transport is not None
        self.transport.sendto(message.encode(), scope["addr"])


def test_run_serves_real_udp_clients_until_handle_returns() -> None:
    server_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server_sock.bind(("127.0.0.1", 0))
    address = server_sock.getsockname()
    server = UDPUpperServer(echo, server_sock)
    runner = threading.Thread(target=server.run)
    runner.start()
    clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    try:
        for index, client in enumerate(clients):
            client.settimeout(10)
            client.sendto(f"client {index}".encode(), address)
            assert client.recv(100) == f"CLIENT {index}".encode()
        clients[0].sendto(b"quit", address)
        runner.join(20)
        assert not runner.is_alive()
        # Every instance was cancelled when the server stopped.
        assert server.application_instances == {}
    finally:
        for client in clients:
            client.close()
        server_sock.close()
