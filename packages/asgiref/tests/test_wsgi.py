"""WsgiToAsgi: environ, streamed request bodies, streamed responses, errors, a real server."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from asgiref.wsgi import ClientDisconnected, WsgiToAsgi, WsgiToAsgiInstance

pytestmark = pytest.mark.timeout(60)

StartResponse = Callable[..., Any]


def http_scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/app/caf\u00e9",
        "root_path": "/app",
        "query_string": b"a=1&b=2",
        "headers": [
            (b"host", b"example.com"),
            (b"x-multi", b"one"),
            (b"x-multi", b"two"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"content-type", b"text/plain"),
        ],
        "client": ("10.0.0.1", 5000),
        "server": ("example.com", 443),
    }
    scope.update(overrides)
    return scope


class Recorder:
    def __init__(self, body_chunks: Iterable[bytes] = (b"",), disconnect: bool = False) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        chunks = list(body_chunks)
        for index, chunk in enumerate(chunks):
            more = disconnect or index < len(chunks) - 1
            self.incoming.put_nowait({"type": "http.request", "body": chunk, "more_body": more})
        if disconnect:
            self.incoming.put_nowait({"type": "http.disconnect"})
        self.receive_calls = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        self.receive_calls += 1
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


async def call(app: Any, recorder: Recorder, **scope: Any) -> None:
    await WsgiToAsgi(app)(http_scope(**scope), recorder.receive, recorder.send)


async def test_environ_follows_pep_3333() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        seen.update(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    recorder = Recorder()
    await call(app, recorder)
    assert seen["REQUEST_METHOD"] == "GET"
    assert seen["SCRIPT_NAME"] == "/app"
    assert seen["PATH_INFO"] == "/caf\u00e9".encode().decode("latin-1")
    assert seen["QUERY_STRING"] == "a=1&b=2"
    assert seen["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert (seen["SERVER_NAME"], seen["SERVER_PORT"]) == ("example.com", "443")
    assert (seen["REMOTE_ADDR"], seen["REMOTE_PORT"]) == ("10.0.0.1", "5000")
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["wsgi.version"] == (1, 0)
    assert seen["wsgi.errors"] is sys.stderr
    assert seen["HTTP_HOST"] == "example.com"
    assert seen["HTTP_X_MULTI"] == "one,two"
    assert seen["HTTP_COOKIE"] == "a=1; b=2"
    assert seen["CONTENT_TYPE"] == "text/plain"
    assert recorder.sent[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain")],
    }
    assert recorder.body == b"ok"
    assert recorder.sent[-1] == {"type": "http.response.body"}


async def test_request_body_is_streamed_not_buffered() -> None:
    observations: list[tuple[bytes, int]] = []
    recorder = Recorder([b"first-", b"second-", b"third"])

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        stream = environ["wsgi.input"]
        first = stream.read(6)
        observations.append((first, recorder.receive_calls))
        rest = stream.read()
        observations.append((rest, recorder.receive_calls))
        start_response("200 OK", [])
        return [first + rest]

    await call(app, recorder, method="POST")
    # After reading the first six bytes only one body message had been pulled.
    assert observations == [(b"first-", 1), (b"second-third", 3)]
    assert recorder.body == b"first-second-third"


async def test_request_body_readline_and_iteration() -> None:
    recorder = Recorder([b"line one\nline ", b"two\nlast"])
    lines: list[bytes] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        lines.extend(environ["wsgi.input"])
        start_response("204 No Content", [])
        return []

    await call(app, recorder, method="POST")
    assert lines == [b"line one\n", b"line two\n", b"last"]
    assert recorder.sent[0]["status"] == 204


async def test_response_chunks_are_streamed_and_iterable_closed() -> None:
    events: list[str] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"a"
            yield b""
            yield b"b"

        def close(self) -> None:
            events.append("closed")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Body:
        start_response("200 OK", [])
        return Body()

    recorder = Recorder()
    await call(app, recorder)
    assert recorder.sent[1:] == [
        {"type": "http.response.body", "body": b"a", "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": True},
        {"type": "http.response.body", "body": b"b", "more_body": True},
        # The final message has no other keys, as in asgiref 3.x.
        {"type": "http.response.body"},
    ]
    assert events == ["closed"]


async def test_the_iterable_is_not_asked_for_more_once_content_length_bytes_are_sent() -> None:
    asked: list[int] = []

    def body() -> Iterator[bytes]:
        asked.append(1)
        yield b"1234"
        asked.append(2)
        yield b"5678"

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "4")])
        return body()

    recorder = Recorder()
    await call(app, recorder)
    assert asked == [1]
    assert recorder.body == b"1234"
    assert recorder.sent[-1] == {"type": "http.response.body"}


async def test_a_header_repeated_beyond_the_limit_gets_400_without_calling_the_app() -> None:
    called: list[bool] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        called.append(True)
        start_response("200 OK", [])
        return [b"ok"]

    headers = [(b"x-repeat", b"v")] * 6
    recorder = Recorder()
    await WsgiToAsgi(app, duplicate_header_limit=5)(
        http_scope(headers=headers), recorder.receive, recorder.send
    )
    assert called == []
    assert recorder.sent == [
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"text/plain")],
        },
        {"type": "http.response.body", "body": b"Bad Request: Too many duplicate headers"},
    ]
    # 100 by default; None lifts the limit.
    for adapter in (WsgiToAsgi(app), WsgiToAsgi(app, duplicate_header_limit=None)):
        recorder = Recorder()
        await adapter(
            http_scope(headers=[(b"x-repeat", b"v")] * 100), recorder.receive, recorder.send
        )
        assert recorder.sent[0]["status"] == 200
    recorder = Recorder()
    await WsgiToAsgi(app)(
        http_scope(headers=[(b"x-repeat", b"v")] * 101), recorder.receive, recorder.send
    )
    assert recorder.sent[0]["status"] == 400


async def test_the_application_starts_only_once_the_request_has_arrived() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    communicator = ApplicationCommunicator(WsgiToAsgi(app), http_scope())
    assert await communicator.receive_nothing() is True
    await communicator.send_input({"type": "http.request"})
    assert (await communicator.receive_output())["status"] == 200


def test_build_environ_is_a_method_and_a_unix_socket_server_has_port_0() -> None:
    instance = WsgiToAsgiInstance(None)
    environ = instance.build_environ(http_scope(server=["/run/app.sock", None]), None)
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("/run/app.sock", "0")
    environ = instance.build_environ(http_scope(server=None), None)
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("localhost", "80")


async def test_write_callable_sends_data() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"written ")
        return [b"returned"]

    recorder = Recorder()
    await call(app, recorder)
    assert recorder.body == b"written returned"


async def test_iterable_is_closed_when_iteration_fails() -> None:
    events: list[str] = []

    class Failing:
        def __iter__(self) -> Iterator[bytes]:
            yield b"partial"
            raise OSError("disk went away")

        def close(self) -> None:
            events.append("closed")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Failing:
        start_response("200 OK", [])
        return Failing()

    with pytest.raises(OSError, match="disk went away"):
        await call(app, Recorder())
    assert events == ["closed"]


async def test_exc_info_before_the_response_started_replaces_the_status() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("X-First", "1")])
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("500 Internal Server Error", [("X-Error", "1")], sys.exc_info())
        return [b"error page"]

    recorder = Recorder()
    await call(app, recorder)
    assert recorder.sent[0]["status"] == 500
    assert recorder.sent[0]["headers"] == [(b"x-error", b"1")]
    assert recorder.body == b"error page"


async def test_exc_info_after_the_response_started_reraises_the_error() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"started"
        try:
            raise ValueError("too late")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        yield b"never"

    recorder = Recorder()
    with pytest.raises(ValueError, match="too late"):
        await call(app, recorder)
    assert recorder.body == b"started"


async def test_start_response_twice_without_exc_info_is_an_error() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        start_response("200 OK", [])
        return []

    with pytest.raises(RuntimeError, match="start_response was called twice"):
        await call(app, Recorder())


async def test_missing_start_response_is_a_clear_error() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        return [b"no headers"]

    with pytest.raises(RuntimeError, match="did not call start_response"):
        await call(app, Recorder())


async def test_bad_status_and_headers_are_clear_errors() -> None:
    def bad_status(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("OK", [])
        return []

    def bad_header(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("X-Bytes", b"value")])
        return []

    with pytest.raises(ValueError, match="got 'OK'"):
        await call(bad_status, Recorder())
    with pytest.raises(TypeError, match=r"\(str, str\) pairs"):
        await call(bad_header, Recorder())


async def test_content_length_truncates_extra_data() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "5")])
        return [b"12345", b"6789"]

    recorder = Recorder()
    await call(app, recorder)
    assert recorder.body == b"12345"


async def test_non_http_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="expected an 'http' scope, got 'lifespan'"):
        await WsgiToAsgi(lambda e, s: [])({"type": "lifespan"}, None, None)


async def test_client_disconnect_while_reading_body_raises_in_the_app() -> None:
    caught: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except ClientDisconnected as exc:
            caught.append(exc)
        start_response("400 Bad Request", [])
        return []

    await call(app, Recorder([b"partial"], disconnect=True), method="POST")
    assert isinstance(caught[0], OSError)
    assert "disconnected" in str(caught[0])


async def test_cancelling_the_request_unblocks_the_wsgi_thread() -> None:
    finished = threading.Event()
    errors: list[BaseException] = []
    reading = threading.Event()

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            reading.set()
            environ["wsgi.input"].read()  # the rest of the body never arrives
        except ClientDisconnected as exc:
            errors.append(exc)
        finally:
            finished.set()
        return []

    first_read = True

    async def never() -> dict[str, Any]:
        nonlocal first_read
        if first_read:
            first_read = False
            return {"type": "http.request", "body": b"start", "more_body": True}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    task = asyncio.ensure_future(WsgiToAsgi(app)(http_scope(), never, Recorder().send))
    assert await asyncio.to_thread(reading.wait, 10)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(finished.wait, 10)
    assert "cancelled" in str(errors[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_served_by_a_real_asgi_server_with_a_streamed_upload() -> None:
    import httpx
    import uvicorn

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        total = 0
        while chunk := environ["wsgi.input"].read(65536):
            total += len(chunk)
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield f"received {total} bytes for {environ['PATH_INFO']}".encode()

    port = _free_port()
    config = uvicorn.Config(WsgiToAsgi(app), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        with httpx.Client(timeout=20) as client:
            for _ in range(200):
                try:
                    client.get(f"http://127.0.0.1:{port}/ping")
                    break
                except httpx.ConnectError:
                    threading.Event().wait(0.05)

            def body() -> Iterator[bytes]:
                for _ in range(32):
                    yield b"x" * 32768

            response = client.post(f"http://127.0.0.1:{port}/upload", content=body())
        assert response.status_code == 200
        assert response.text == "received 1048576 bytes for /upload"
    finally:
        server.should_exit = True
        thread.join(20)


async def test_non_iterable_result_is_a_clear_error() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> None:
        start_response("200 OK", [])

    with pytest.raises(TypeError, match="must return an iterable of bytes, got NoneType"):
        await call(app, Recorder())


async def test_text_chunks_are_a_clear_error_and_the_iterable_is_closed() -> None:
    closed: list[bool] = []

    class TextBody:
        def __iter__(self) -> Iterator[str]:
            yield "text, not bytes"

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: StartResponse) -> TextBody:
        start_response("200 OK", [])
        return TextBody()

    with pytest.raises(TypeError, match="must be bytes, got str"):
        await call(app, Recorder())
    assert closed == [True]


async def test_the_adapter_keeps_serving_after_a_failed_request() -> None:
    calls: list[str] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == "/bad":
            raise ValueError("bad request handling")
        start_response("200 OK", [])
        return [b"fine"]

    adapter = WsgiToAsgi(app)
    bad = Recorder()
    with pytest.raises(ValueError):
        await adapter(http_scope(path="/bad", root_path=""), bad.receive, bad.send)
    good = Recorder()
    await adapter(http_scope(path="/good", root_path=""), good.receive, good.send)
    assert good.body == b"fine"
    assert calls == ["/bad", "/good"]


async def test_executor_keyword_runs_the_wsgi_application_there() -> None:
    from concurrent.futures import ThreadPoolExecutor

    names: list[str] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        names.append(threading.current_thread().name)
        start_response("200 OK", [])
        return [b""]

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wsgi-pool") as pool:
        recorder = Recorder()
        await WsgiToAsgi(app, executor=pool)(http_scope(), recorder.receive, recorder.send)
    assert names[0].startswith("wsgi-pool")
