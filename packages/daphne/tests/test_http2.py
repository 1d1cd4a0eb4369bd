"""HTTP/2 over TLS with ALPN, using httpx's HTTP/2 client and a certificate made here."""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest
import websockets


@pytest.fixture(scope="session")
def tls_server(pool, certificate):
    key, cert = certificate
    endpoint = f"ssl:0:privateKey={key}:certKey={cert}:interface=127.0.0.1"
    return pool.get(endpoints=[endpoint])


@pytest.fixture
def client_context(certificate):
    context = ssl.create_default_context(cafile=str(certificate[1]))
    return context


def base(server):
    return f"https://{server[0]}:{server[1]}"


def test_http2_request_and_scope(tls_server, client_context):
    with httpx.Client(http2=True, verify=client_context) as client:
        response = client.get(base(tls_server) + "/scope?q=1")
        assert response.http_version == "HTTP/2"
        scope = response.json()
        assert scope["http_version"] == "2"
        assert scope["scheme"] == "https"
        assert scope["path"] == "/scope"
        assert scope["query_string"] == "q=1"
        assert response.headers["server"] == "daphne"


def test_http2_multiplexed_streams_and_bodies(tls_server, client_context):
    with httpx.Client(http2=True, verify=client_context) as client:
        for size in (0, 10, 200_000):
            response = client.post(base(tls_server) + "/echo", content=b"z" * size)
            assert response.http_version == "HTTP/2"
            assert response.content == b"z" * size
        streamed = client.get(base(tls_server) + "/stream")
        assert streamed.text == "one,two,three"


def test_http2_application_error_is_500(tls_server, client_context):
    with httpx.Client(http2=True, verify=client_context) as client:
        assert client.get(base(tls_server) + "/error").status_code == 500
        assert client.get(base(tls_server) + "/").status_code == 200


def test_http11_still_served_over_tls(tls_server, client_context):
    with httpx.Client(http2=False, verify=client_context) as client:
        response = client.get(base(tls_server) + "/scope")
        assert response.http_version == "HTTP/1.1"
        assert response.json()["scheme"] == "https"


async def test_websocket_over_tls(tls_server, client_context):
    url = f"wss://{tls_server[0]}:{tls_server[1]}/ws/echo"
    async with websockets.connect(url, ssl=client_context) as ws:
        await ws.send("secure")
        assert await ws.recv() == "secure"
    # Python 3.10's asyncio does not mark an SSL transport closed when the peer closes
    # it, and warns (ResourceWarning) when it is collected; later versions do.
    ws.transport.close()


async def test_websocket_timeout_applies_over_tls(pool, certificate, client_context):
    """Regression: over TLS the open event used to fail inside Autobahn (it could not read a
    channel id through daphne's transport wrapper), so --websocket_timeout never started."""
    key, cert = certificate
    endpoint = f"ssl:0:privateKey={key}:certKey={cert}:interface=127.0.0.1"
    server = pool.get(endpoints=[endpoint], websocket_timeout=0.5)
    url = f"wss://{server[0]}:{server[1]}/ws/echo"
    async with websockets.connect(url, ssl=client_context) as ws:
        await ws.send("still echoed")
        assert await ws.recv() == "still echoed"
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1000
    ws.transport.close()


def test_http2_body_limit_is_413_while_streaming(pool, certificate, client_context):
    key, cert = certificate
    endpoint = f"ssl:0:privateKey={key}:certKey={cert}:interface=127.0.0.1"
    server = pool.get(endpoints=[endpoint], max_body_size=1000)
    with httpx.Client(http2=True, verify=client_context) as client:
        response = client.post(base(server) + "/echo", content=b"q" * 50_000)
        assert response.status_code == 413
        assert client.post(base(server) + "/echo", content=b"q" * 999).content == b"q" * 999


def test_http2_requests_are_access_logged(
    cli_server, free_port, certificate, client_context, tmp_path
):
    key, cert = certificate
    port = free_port()
    log = tmp_path / "access.log"
    endpoint = f"ssl:{port}:privateKey={key}:certKey={cert}:interface=127.0.0.1"
    args = ["-e", endpoint, "--access-log", str(log), "daphne_test_apps:app"]
    with (
        cli_server(args, port=port),
        httpx.Client(http2=True, verify=client_context) as client,
    ):
        assert client.get(f"https://127.0.0.1:{port}/scope").http_version == "HTTP/2"
        assert client.get(f"https://127.0.0.1:{port}/error").status_code == 500
    text = log.read_text()
    assert '"GET /scope" 200' in text
    assert '"GET /error" 500' in text


def test_http2_client_going_away_reaches_the_application(
    tls_server, client_context, record, wait_for
):
    import socket

    import h2.connection

    client_context.set_alpn_protocols(["h2"])
    raw = socket.create_connection(tls_server, timeout=10)
    sock = client_context.wrap_socket(raw, server_hostname="127.0.0.1")
    assert sock.selected_alpn_protocol() == "h2"
    conn = h2.connection.H2Connection()
    conn.initiate_connection()
    conn.send_headers(
        1,
        [
            (":method", "GET"),
            (":path", f"/wait-disconnect?{record.query}"),
            (":scheme", "https"),
            (":authority", "127.0.0.1"),
        ],
        end_stream=True,
    )
    sock.sendall(conn.data_to_send())
    wait_for(lambda: {"event": "started"} in record.events())
    sock.close()
    wait_for(lambda: {"event": "disconnect"} in record.events())


def test_idle_tls_connection_does_not_hold_up_shutdown(
    cli_server, free_port, certificate, client_context
):
    """TLS close waits for the peer's close_notify; an idle client never sends it. With a
    shutdown timeout of an hour, only not waiting on idle sockets lets the process exit."""
    import signal

    key, cert = certificate
    port = free_port()
    endpoint = f"ssl:{port}:privateKey={key}:certKey={cert}:interface=127.0.0.1"
    args = ["-e", endpoint, "--shutdown-timeout", "3600", "daphne_test_apps:app"]
    with (
        cli_server(args, port=port) as process,
        httpx.Client(http2=True, verify=client_context) as client,
    ):
        assert client.get(f"https://127.0.0.1:{port}/").http_version == "HTTP/2"
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
