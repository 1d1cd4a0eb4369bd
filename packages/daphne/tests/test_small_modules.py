"""Endpoints, access log lines, wire helpers, application loading and configuration checks."""

from __future__ import annotations

import datetime
import io

import pytest
from daphne._appload import import_by_path
from daphne._config import ServerConfig
from daphne._httpcycle import ProtocolError, validate_headers
from daphne._wire import error_response, frame_chunk, status_line
from daphne.access import AccessLogGenerator
from daphne.endpoints import build_endpoint_description_strings


def test_endpoints():
    assert build_endpoint_description_strings(host="127.0.0.1", port=8000) == [
        "tcp:port=8000:interface=127.0.0.1"
    ]
    assert build_endpoint_description_strings(host="[::1]", port=80) == [
        r"tcp:port=80:interface=\:\:1"
    ]
    assert build_endpoint_description_strings(unix_socket="/tmp/s", file_descriptor=5) == [
        "unix:/tmp/s",
        "fd:fileno=5",
    ]
    with pytest.raises(ValueError, match="both host and port"):
        build_endpoint_description_strings(host="h")


def test_access_log_lines():
    stream = io.StringIO()
    log = AccessLogGenerator(stream)
    log(
        "http",
        "complete",
        {
            "path": "/p",
            "status": 200,
            "method": "GET",
            "client": "1.2.3.4:5",
            "size": 10,
            "time_taken": 0.1,
        },
    )
    log("websocket", "connected", {"path": "/ws", "client": None})
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("1.2.3.4 - - [") and lines[0].endswith('"GET /p" 200 10')
    assert lines[1].startswith("- - - [") and '"WSCONNECT /ws"' in lines[1]
    stream2 = io.StringIO()
    AccessLogGenerator(stream2).write_entry("h", datetime.datetime(2020, 1, 2, 3, 4, 5), "X")
    assert stream2.getvalue() == 'h - - [02/Jan/2020:03:04:05] "X" - -\n'


def test_wire_helpers():
    assert status_line(404) == b"HTTP/1.1 404 Not Found\r\n"
    assert status_line(599).startswith(b"HTTP/1.1 599 ")
    assert frame_chunk(b"abc", last=True) == b"3\r\nabc\r\n0\r\n\r\n"
    assert frame_chunk(b"", last=False) == b""
    response = error_response(400, "bad thing")
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert response.endswith(b"Bad Request\nbad thing\n")


def test_response_header_validation():
    assert validate_headers([(b"a", b"b")]) == [(b"a", b"b")]
    with pytest.raises(ProtocolError, match="expected to be `bytes`"):
        validate_headers([("a", "b")])
    with pytest.raises(ProtocolError, match="CR, LF"):
        validate_headers([(b"a", b"b\r\nc: d")])
    with pytest.raises(ProtocolError, match="pair"):
        validate_headers([(b"a",)])


def test_import_by_path():
    assert import_by_path("daphne.endpoints:build_endpoint_description_strings").__name__ == (
        "build_endpoint_description_strings"
    )
    assert import_by_path("daphne.access.AccessLogGenerator") is AccessLogGenerator
    with pytest.raises(ImportError, match="no attribute"):
        import_by_path("daphne.access:Nope")
    with pytest.raises(ImportError, match="module:application"):
        import_by_path("nodots")


def test_config_rejects_nonsense():
    with pytest.raises(ValueError, match="window_bits"):
        ServerConfig(websocket_deflate_window_bits=20)
    with pytest.raises(ValueError, match="max_headers"):
        ServerConfig(max_headers=0)


def test_request_head_rules():
    from daphne._request import Reject, check_length_and_expect, is_websocket_upgrade, keep_alive

    assert keep_alive("1.1", []) is True
    assert keep_alive("1.1", [(b"connection", b"Keep-Alive, Close")]) is False
    assert keep_alive("1.0", []) is False
    assert keep_alive("1.0", [(b"connection", b"keep-alive")]) is True
    assert is_websocket_upgrade([(b"Upgrade", b"WebSocket")]) is True
    assert is_websocket_upgrade([(b"upgrade", b"h2c")]) is False
    assert check_length_and_expect([(b"expect", b"100-Continue")], None) is True
    assert check_length_and_expect([(b"content-length", b"10")], 10) is False
    with pytest.raises(Reject) as too_big:
        check_length_and_expect([(b"content-length", b"11")], 10)
    assert too_big.value.status == 413
    with pytest.raises(Reject) as unknown:
        check_length_and_expect([(b"expect", b"something")], None)
    assert unknown.value.status == 417
