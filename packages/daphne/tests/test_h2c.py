"""HTTP/2 over cleartext: prior knowledge (on by default) and Upgrade: h2c (--h2c upgrade)."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import time

import h2.config
import h2.connection
import h2.events
import httpx
import pytest

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def base(server):
    return f"http://{server[0]}:{server[1]}"


@pytest.fixture
def upgrade_server(pool, stack):
    return pool.get(h2c="upgrade", **stack)


def curl_http2():
    """The curl binary if it speaks HTTP/2; a visible skip (with the reason) otherwise."""
    path = shutil.which("curl")
    if path is None:
        pytest.skip("curl is not installed (the httpx and h2 tests cover the same ground)")
    features = subprocess.run([path, "-V"], capture_output=True, text=True, check=True).stdout
    if "HTTP2" not in features:
        pytest.skip("this curl was built without HTTP/2 (no nghttp2)")
    return path


def curl(*args):
    result = subprocess.run(
        [curl_http2(), "-sS", "-v", "--max-time", "20", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout, result.stderr


def status_of(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None


def still_serving(server):
    with httpx.Client() as client:
        assert client.get(base(server) + "/").text == "Hello, world!"


# Prior knowledge ---------------------------------------------------------------------------


def test_prior_knowledge_request_is_served_over_http2(server):
    with httpx.Client(http1=False, http2=True) as client:
        response = client.get(base(server) + "/scope?q=1")
    assert response.http_version == "HTTP/2"
    scope = response.json()
    assert scope["http_version"] == "2"
    assert scope["scheme"] == "http"
    assert scope["query_string"] == "q=1"
    assert scope["client"][0] == "127.0.0.1"
    assert response.headers["server"] == "daphne"


def test_prior_knowledge_streams_carry_bodies_both_ways(server):
    with httpx.Client(http1=False, http2=True) as client:
        for size in (0, 10, 200_000):
            response = client.post(base(server) + "/echo", content=b"z" * size)
            assert response.http_version == "HTTP/2"
            assert response.content == b"z" * size
        assert client.get(base(server) + "/stream").text == "one,two,three"
        assert client.get(base(server) + "/error").status_code == 500


def test_curl_with_prior_knowledge(server):
    body, log = curl("--http2-prior-knowledge", "-d", "prior", base(server) + "/echo")
    assert body == "prior"
    assert "HTTP/2 200" in log


def test_http11_is_unchanged_beside_prior_knowledge(server):
    with httpx.Client() as client:
        response = client.get(base(server) + "/scope")
    assert response.http_version == "HTTP/1.1"
    assert response.json()["http_version"] == "1.1"


def test_preface_split_across_reads_is_still_http2(server):
    conn = h2.connection.H2Connection()
    conn.initiate_connection()
    data = conn.data_to_send()
    assert data.startswith(PREFACE)
    with socket.create_connection(server, timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (data[:1], data[1:5], data[5:17], data[17:]):
            sock.sendall(piece)
            time.sleep(0.05)  # only to make separate reads likely; correctness never waits on it
        conn.send_headers(
            1,
            [(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", "x")],
            end_stream=True,
        )
        sock.sendall(conn.data_to_send())
        body = _read_response(sock, conn, 1)
    assert body == b"Hello, world!"


def test_bogus_preface_is_refused_as_http1(server, raw):
    # Starts like the preface but is not it: the HTTP/1.1 parser sees every byte, and refuses.
    reply = raw(server, b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
    assert status_of(reply) in (400, 505)
    still_serving(server)


def test_http1_request_starting_like_the_preface_is_http1(server):
    with socket.create_connection(server, timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"P")  # could still be the preface: held, then given to HTTP/1.1 whole
        time.sleep(0.05)
        sock.sendall(b"OST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
        reply = sock.recv(65536)
    assert status_of(reply) == 200
    assert reply.endswith(b"\r\n\r\nok")


def test_partial_preface_then_close_leaves_the_server_serving(server):
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(PREFACE[:10])
    still_serving(server)


def test_prior_knowledge_can_be_turned_off(pool, raw):
    server = pool.get(h2c="off")
    reply = raw(server, PREFACE)
    assert status_of(reply) in (400, 505)  # as before h2c: httptools says 400, ours 505


# Upgrade: h2c ------------------------------------------------------------------------------


def upgrade_request(path="/scope", settings=None, extra=b"", method=b"GET"):
    if settings is None:
        settings = base64.urlsafe_b64encode(b"\x00\x03\x00\x00\x00\x64").rstrip(b"=")
    return (
        method + b" " + path.encode() + b" HTTP/1.1\r\nHost: h2c.test\r\n"
        b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
        b"HTTP2-Settings: " + settings + b"\r\n" + extra + b"\r\n"
    )


def _read_response(sock, conn, stream_id):
    body = b""
    while True:
        data = sock.recv(65536)
        assert data, "the server closed the connection before the response ended"
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                body += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
            if isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                return body
        sock.sendall(conn.data_to_send())


def upgrade_with_h2(server, request):
    """Send an upgrade request; return (101 head, stream 1's body, the h2 client, socket)."""
    sock = socket.create_connection(server, timeout=10)
    sock.sendall(request)
    head = b""
    while b"\r\n\r\n" not in head:
        block = sock.recv(1)
        assert block, f"closed after {head!r}"
        head += block
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_upgrade_connection()
    sock.sendall(conn.data_to_send())
    return head, _read_response(sock, conn, 1), conn, sock


def test_upgrade_request_becomes_stream_one(upgrade_server):
    head, body, conn, sock = upgrade_with_h2(upgrade_server, upgrade_request("/scope?via=up"))
    with sock:
        assert head.startswith(b"HTTP/1.1 101 ")
        assert b"upgrade: h2c" in head.lower()
        scope = httpx.Response(200, content=body).json()
        assert scope["http_version"] == "2"
        assert scope["query_string"] == "via=up"
        assert ["host", "h2c.test"] in scope["headers"]
        names = {name for name, _ in scope["headers"]}
        assert not names & {"connection", "upgrade", "http2-settings"}
        # The connection goes on as HTTP/2: a second request on stream 3.
        conn.send_headers(
            3,
            [(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", "x")],
            end_stream=True,
        )
        sock.sendall(conn.data_to_send())
        assert _read_response(sock, conn, 3) == b"Hello, world!"


def test_upgrade_request_body_becomes_stream_one_body(upgrade_server):
    request = upgrade_request("/echo", extra=b"Content-Length: 5\r\n", method=b"POST") + b"hello"
    head, body, _, sock = upgrade_with_h2(upgrade_server, request)
    sock.close()
    assert head.startswith(b"HTTP/1.1 101 ")
    assert body == b"hello"


def test_curl_upgrade(upgrade_server):
    body, log = curl("--http2", base(upgrade_server) + "/scope")
    assert "101 Switching Protocols" in log
    assert '"http_version": "2"' in body
    body, log = curl("--http2", "-d", "payload", base(upgrade_server) + "/echo")
    assert "101 Switching Protocols" in log
    assert body == "payload"


def test_upgrade_is_off_by_default(server):
    # Answered as HTTP/1.1: an upgrade the server does not speak (h2c smuggling stays shut).
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(upgrade_request("/"))
        reply = sock.recv(65536)
    assert status_of(reply) == 200
    assert b"Hello, world!" in reply


def test_upgrade_over_tls_is_not_switched(pool, stack, certificate):
    import ssl

    key, cert = certificate
    endpoint = f"ssl:0:privateKey={key}:certKey={cert}:interface=127.0.0.1"
    server = pool.get(endpoints=[endpoint], h2c="upgrade", **stack)
    context = ssl.create_default_context(cafile=str(cert))
    with (
        socket.create_connection(server, timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
    ):
        sock.sendall(upgrade_request("/"))
        reply = sock.recv(65536)
    assert status_of(reply) == 200  # over TLS, HTTP/2 is negotiated with ALPN only


def test_upgrade_without_http2_settings_in_connection_is_not_switched(upgrade_server, raw):
    reply = raw(
        upgrade_server,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
        b"HTTP2-Settings: AAMAAABk\r\n\r\n",
    )
    assert status_of(reply) == 200


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        (b"A" * 4000, b"HTTP2-Settings header of at most 1024 bytes, got 4000"),
        (b"!!!!", b"base64url"),
        (b"AAMAAAB", b"6-byte entries"),
        (base64.urlsafe_b64encode(b"\x00\x02\x00\x00\x00\x07"), b"valid HTTP2-Settings"),
    ],
    ids=["oversized", "not-base64", "truncated", "bad-value"],
)
def test_bad_http2_settings_is_400_and_the_server_goes_on(upgrade_server, raw, settings, complaint):
    reply = raw(upgrade_server, upgrade_request("/", settings=settings))
    assert status_of(reply) == 400
    assert complaint in reply
    still_serving(upgrade_server)


def test_two_http2_settings_headers_are_400(upgrade_server, raw):
    reply = raw(upgrade_server, upgrade_request("/", extra=b"HTTP2-Settings: AAMAAABk\r\n"))
    assert status_of(reply) == 400
    assert b"expected one HTTP2-Settings header, got 2" in reply


def test_chunked_upgrade_request_is_400(upgrade_server, raw):
    request = upgrade_request("/echo", extra=b"Transfer-Encoding: chunked\r\n", method=b"POST")
    reply = raw(upgrade_server, request + b"5\r\nhello\r\n0\r\n\r\n")
    assert status_of(reply) == 400
    assert b"Transfer-Encoding" in reply


def test_upgrade_body_that_does_not_arrive_in_time_is_408(pool):
    # Nothing reaches the application before the switch, so the body has its own deadline.
    server = pool.get(h2c="upgrade", request_header_timeout=0.5)
    request = upgrade_request("/echo", extra=b"Content-Length: 5\r\n", method=b"POST")
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(request + b"he")  # three bytes short, then silence
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert status_of(reply) == 408
    assert b"in time" in reply


def test_upgrade_body_over_the_limit_is_413(pool, raw):
    server = pool.get(h2c="upgrade", max_body_size=4)
    request = upgrade_request("/echo", extra=b"Content-Length: 5\r\n", method=b"POST")
    reply = raw(server, request + b"hello")
    assert status_of(reply) == 413
