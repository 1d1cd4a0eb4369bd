"""HTTP/1.1 behaviour over real sockets, with both request parsers."""

from __future__ import annotations

import json
import socket
import time

import httpx


def url(server, path):
    return f"http://{server[0]}:{server[1]}{path}"


def test_hello_has_server_and_date_headers(server):
    response = httpx.get(url(server, "/"))
    assert response.status_code == 200
    assert response.text == "Hello, world!"
    assert response.headers["server"] == "daphne"
    assert response.headers["date"].endswith("GMT")


def test_single_body_message_gets_chunked_framing_that_clients_read(server):
    response = httpx.get(url(server, "/stream"))
    assert response.text == "one,two,three"
    assert response.headers["transfer-encoding"] == "chunked"


def test_explicit_content_length_is_kept(server):
    response = httpx.get(url(server, "/length"))
    assert response.headers["content-length"] == "5"
    assert "transfer-encoding" not in response.headers


def test_keep_alive_reuses_one_connection(server):
    with httpx.Client() as client:
        ports = set()
        for _ in range(5):
            response = client.get(url(server, "/scope"))
            ports.add(tuple(response.json()["client"]))
        assert len(ports) == 1


def test_request_body_streamed_in_chunks(server):
    def body():
        for _ in range(20):
            yield b"a" * 100_000

    response = httpx.post(url(server, "/echo"), content=body())
    assert len(response.content) == 2_000_000
    assert int(response.headers["x-chunks"]) > 1


def test_chunked_request_body_is_decoded(server, raw):
    request = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
    )
    reply = raw(server, request)
    assert reply.startswith(b"HTTP/1.1 200")
    assert reply.endswith(b"hello world")


def test_head_sends_no_body(server, raw):
    reply = raw(server, b"HEAD /length HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"content-length: 5" in head
    assert body == b""


def test_expect_100_continue(server):
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        interim = sock.recv(100)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"abc")
        rest = b""
        while chunk := sock.recv(4096):
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 200") and rest.endswith(b"abc")


def test_pipelined_requests_answered_in_order(server, raw):
    request = b"GET /scope?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
    request += b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
    request += b"GET /scope?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    reply = raw(server, request)
    assert reply.count(b"HTTP/1.1 200 OK") == 3
    assert reply.index(b'"n=1"') < reply.index(b"body") < reply.index(b'"n=3"')


def test_a_body_sent_with_an_unknown_upgrade_reaches_the_application(server, raw):
    # Answered as plain HTTP (the server does not speak "irc"), with the whole body.
    request = b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: irc\r\n"
    reply = raw(server, request + b"Content-Length: 9\r\n\r\nsent body")
    assert reply.startswith(b"HTTP/1.1 200")
    assert reply.endswith(b"\r\n\r\nsent body") and b"connection: close" in reply.lower()


def test_http10_without_length_is_close_delimited(server, raw):
    reply = raw(server, b"GET /stream HTTP/1.0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200")
    assert b"transfer-encoding" not in reply
    assert reply.endswith(b"one,two,three")


def test_scope_fields(server):
    response = httpx.get(url(server, "/scope/%E2%9C%93%20x?a=1&b=%20"), headers={"X-Thing": "v"})
    scope = response.json()
    assert scope["path"] == "/scope/\u2713 x"
    assert scope["raw_path"] == "/scope/%E2%9C%93%20x"
    assert scope["query_string"] == "a=1&b=%20"
    assert ["x-thing", "v"] in scope["headers"]
    assert scope["client"][0] == "127.0.0.1"
    assert scope["server"] == [server[0], server[1]]
    assert scope["scheme"] == "http"
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"


def test_headers_with_underscores_are_dropped(server, raw):
    reply = raw(
        server,
        b"GET /scope HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 1.2.3.4\r\nConnection: close\r\n\r\n",
    )
    assert b"x_forwarded_for" not in reply.lower()


def test_root_path_setting_and_header(pool, stack, raw):
    server = pool.get(root_path="/mounted", **stack)
    assert httpx.get(url(server, "/scope")).json()["root_path"] == "/mounted"
    response = httpx.get(url(server, "/scope"), headers={"Daphne-Root-Path": "/other%20x"})
    assert response.json()["root_path"] == "/other x"


def test_server_name_option(pool):
    custom = pool.get(server_name="edge")
    assert httpx.get(url(custom, "/")).headers["server"] == "edge"
    hidden = pool.get(server_name=None)
    assert "server" not in httpx.get(url(hidden, "/")).headers


def test_application_exception_gives_500_and_server_keeps_serving(server):
    response = httpx.get(url(server, "/error"))
    assert response.status_code == 500
    assert b"Traceback" not in response.content and b"deliberate" not in response.content
    assert httpx.get(url(server, "/")).status_code == 200


def test_application_returning_without_response_gives_500(server):
    assert httpx.get(url(server, "/noresponse")).status_code == 500


def test_exception_after_start_aborts_connection(server):
    try:
        response = httpx.get(url(server, "/error-after-start"))
    except httpx.HTTPError:
        pass
    else:
        raise AssertionError(f"expected a broken response, got a complete {response!r}")
    assert httpx.get(url(server, "/")).status_code == 200


def test_header_injection_is_refused(server):
    response = httpx.get(url(server, "/bad-header"))
    assert response.status_code == 500
    assert "set-cookie" not in response.headers


def test_http_timeout_answers_503(pool, stack):
    server = pool.get(http_timeout=0.5, **stack)
    response = httpx.get(url(server, "/sleep"))
    assert response.status_code == 503
    assert httpx.get(url(server, "/")).status_code == 200


def test_disconnect_reaches_application(server, record, wait_for):
    sock = socket.create_connection(server)
    sock.sendall(f"GET /wait-disconnect?{record.query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    wait_for(lambda: {"event": "started"} in record.events())
    sock.close()
    wait_for(lambda: {"event": "disconnect"} in record.events())


def test_slow_reader_bounds_what_the_application_sends(server, record):
    """Back-pressure: while the client reads nothing, the app's send() blocks."""
    sock = socket.create_connection(server)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.sendall(f"GET /flood?mb=256&{record.query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    sent = _wait_until_stable(lambda: len(record.events()))
    assert 0 < sent * 65536 < 64 * 1024 * 1024, f"app sent {sent} chunks to a stalled reader"
    sock.close()


def _wait_until_stable(measure, settle=1.0, limit=30.0):
    """Poll until the measured value stops changing for ``settle`` seconds."""
    deadline = time.monotonic() + limit
    last, since = measure(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        value = measure()
        if value != last:
            last, since = value, time.monotonic()
        elif value and time.monotonic() - since >= settle:
            return value
    raise AssertionError(f"value never settled (last {last})")


def test_scope_json_is_decodable(server):
    assert json.loads(httpx.get(url(server, "/scope")).content)["type"] == "http"


def test_http10_keep_alive_is_honoured(server):
    with socket.create_connection(server, timeout=10) as sock:
        for _ in range(2):
            sock.sendall(b"GET /length HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            data = b""
            while not data.endswith(b"12345"):
                data += sock.recv(4096)
            assert data.startswith(b"HTTP/1.1 200")
            assert b"connection: close" not in data


def test_connection_close_is_honoured(server, raw):
    reply = raw(server, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b"connection: close" in reply


def test_trailing_whitespace_in_header_values_is_stripped(server, raw):
    reply = raw(server, b"GET /scope HTTP/1.1\r\nHost: x\r\nX-A: v \t\r\nConnection: close\r\n\r\n")
    assert b'["x-a", "v"]' in reply


def test_request_body_is_not_read_faster_than_the_app_consumes(server, record, wait_for):
    """Reading pauses while the app holds unread body data, so the client's send blocks."""
    sock = socket.create_connection(server)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    total = 512 * 1024 * 1024
    sock.sendall(
        f"POST /no-read?{record.query} HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {total}\r\n\r\n".encode()
    )
    wait_for(lambda: {"event": "started"} in record.events())
    sock.settimeout(2)
    sent = 0
    chunk = b"b" * 65536
    try:
        while sent < total:
            sent += sock.send(chunk)
    except TimeoutError:
        pass
    assert 0 < sent < 64 * 1024 * 1024, f"server swallowed {sent} bytes the app never read"
    sock.close()


def test_body_arriving_after_the_response_still_reaches_a_reading_app(server, record, wait_for):
    # The app answers on the first body message and reads on. The rest of the body arrives
    # only after the client has seen the response: the app gets all of it, not a disconnect.
    sock = socket.create_connection(server, timeout=10)
    sock.sendall(
        f"POST /respond-then-read?{record.query} HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 9\r\n\r\nfirst".encode()
    )
    reply = b""
    while b"answered" not in reply:
        reply += sock.recv(65536)
    sock.sendall(b"-end")
    wait_for(lambda: len(record.events()) >= 2)
    sock.close()
    events = record.events()
    assert "".join(e["body"] for e in events) == "first-end"
    assert [e["type"] for e in events] == ["http.request"] * len(events)
