"""WebSockets over HTTP/2 (RFC 8441), over TLS (ALPN h2) and over h2c, with a real client."""

from __future__ import annotations

import json
import signal
import ssl

import pytest
from _h2ws_client import H2WebSocketClient, StreamClosed


@pytest.fixture(scope="session")
def tls_endpoint(certificate):
    key, cert = certificate
    return f"ssl:0:privateKey={key}:certKey={cert}:interface=127.0.0.1"


@pytest.fixture(params=["h2c", "tls"])
def open_client(request, pool, stack, tls_endpoint, certificate):
    """Make a connected-but-not-yet-opened client to a server of each stack and transport."""
    if request.param == "tls":
        server = pool.get(endpoints=[tls_endpoint], **stack)
        context = ssl.create_default_context(cafile=str(certificate[1]))
    else:
        server, context = pool.get(**stack), None
    clients = []

    def make():
        client = H2WebSocketClient(server, context)
        clients.append(client)
        return client

    make.secure = context is not None
    yield make
    for client in clients:
        client.shutdown()


def test_server_advertises_extended_connect_and_echoes_text_and_binary(open_client):
    client = open_client()
    assert client.connect("/ws/echo") == 200  # the client checked the SETTINGS first
    assert "sec-websocket-accept" not in client.headers
    client.send("hello over h2")
    assert client.recv() == "hello over h2"
    client.send(b"\x00\xffbinary")
    assert client.recv() == b"\x00\xffbinary"
    # Larger than the initial 64 KiB window: flow control has to move both ways.
    big = bytes(range(256)) * 1200
    client.send(big)
    assert client.recv() == big


def test_scope_is_an_ordinary_websocket_scope_over_http2(open_client):
    client = open_client()
    assert client.connect("/ws/scope?room=7", subprotocols=["chat"]) == 200
    scope = json.loads(client.recv())
    assert scope["type"] == "websocket"
    assert scope["http_version"] == "2"
    assert scope["scheme"] == ("wss" if open_client.secure else "ws")
    assert scope["path"] == "/ws/scope"
    assert scope["query_string"] == "room=7"
    assert scope["subprotocols"] == ["chat"]
    assert ["sec-websocket-version", "13"] in scope["headers"]
    assert scope["headers"][0][0] == "host"


def test_subprotocol_is_negotiated(open_client):
    client = open_client()
    assert client.connect("/ws/headers", subprotocols=["chat", "superchat"]) == 200
    assert client.headers["sec-websocket-protocol"] == "superchat"
    assert client.headers["x-accepted"] == "yes"
    other = open_client()
    assert other.connect("/ws/echo") == 200
    assert "sec-websocket-protocol" not in other.headers


def test_client_close_code_is_echoed_and_reaches_the_application(open_client, record, wait_for):
    client = open_client()
    assert client.connect(f"/ws/echo?{record.query}") == 200
    assert client.close(4000, "done") == (4000, "done")
    client.wait_stream_end()
    wait_for(lambda: {"event": "disconnect", "code": 4000, "reason": "done"} in record.events())


def test_application_close_code_reaches_the_client(open_client):
    client = open_client()
    assert client.connect("/ws/close") == 200
    assert client.wait_close() == (4001, "bye now")


def test_application_error_after_accept_closes_1011(open_client):
    client = open_client()
    assert client.connect("/ws/error") == 200
    assert client.wait_close()[0] == 1011


def test_rejection_and_denial_are_http2_responses(open_client):
    rejected = open_client()
    assert rejected.connect("/ws/reject") == 403
    rejected.wait_stream_end()
    denied = open_client()
    assert denied.connect("/ws/deny") == 401
    assert denied.headers["www-authenticate"] == "Bearer"
    assert "transfer-encoding" not in denied.headers
    denied.wait_stream_end()
    assert bytes(denied.buffer) == b"token required"


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [({"version": "8"}, 426), ({"protocol": "chat"}, 400)],
    ids=["websocket-version-8", "protocol-not-websocket"],
)
def test_bad_extended_connect_is_refused(open_client, kwargs, status):
    client = open_client()
    assert client.connect("/ws/echo", **kwargs) == status
    if status == 426:
        assert client.headers["sec-websocket-version"] == "13"


def test_stream_reset_reaches_the_application_and_the_connection_goes_on(
    open_client, record, wait_for
):
    client = open_client()
    assert client.connect(f"/ws/echo?{record.query}") == 200
    client.send("before reset")
    assert client.recv() == "before reset"
    client.conn.reset_stream(client.stream_id)
    client._flush()
    wait_for(lambda: any(e.get("event") == "disconnect" for e in record.events()))
    # The same connection opens another WebSocket on a new stream.
    client.stream_id = client.conn.get_next_available_stream_id()
    client.status, client.ended = 0, False
    client.buffer.clear()
    client.conn.send_headers(
        client.stream_id,
        [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", client.scheme),
            (":path", "/ws/echo"),
            (":authority", client.authority),
            ("sec-websocket-version", "13"),
        ],
    )
    client._flush()
    while not client.status:
        client._pump()
    assert client.status == 200
    client.send("after reset")
    assert client.recv() == "after reset"


def test_client_ending_its_stream_ends_the_websocket(open_client, record, wait_for):
    client = open_client()
    assert client.connect(f"/ws/echo?{record.query}") == 200
    client.conn.end_stream(client.stream_id)
    client._flush()
    with pytest.raises(StreamClosed):
        client.recv()
    wait_for(lambda: any(e.get("event") == "disconnect" for e in record.events()))


def test_shutdown_closes_http2_websockets_with_1001(cli_server, free_port):
    port = free_port()
    args = ["-b", "127.0.0.1", "-p", str(port), "daphne_test_apps:app"]
    with cli_server(args, port=port) as process:
        client = H2WebSocketClient(("127.0.0.1", port))
        try:
            assert client.connect("/ws/echo") == 200
            client.send("still here")
            assert client.recv() == "still here"
            process.send_signal(signal.SIGTERM)
            assert client.wait_close()[0] == 1001
        finally:
            client.shutdown()
        assert process.wait(60) == 0
