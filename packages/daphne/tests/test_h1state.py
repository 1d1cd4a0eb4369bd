"""The HTTP/1.1 state machine on its own: bytes in, actions and bytes out, no socket.

A ``Recorder`` stands in for the connection (``Http1Actions``): it keeps what the machine
wrote and asked for, so each test states the exact conversation. Every test runs with both
parsers (httptools and the pure-Python one). End-to-end behaviour over real sockets is in
test_http1.py, test_hostile.py and test_malformed.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from daphne._config import ServerConfig
from daphne._context import TransportInfo
from daphne._h1state import Http1State, UpgradeRequest
from daphne._httpcycle import HttpCycle, ResponseState
from daphne._parser import httptools_available
from daphne._types import Scope
from daphne._wire import DateHeader

PARSERS = [False, True] if httptools_available() else [False]
INFO = TransportInfo(("10.0.0.7", 5123), ("10.0.0.1", 8000), False)


class Deadline:
    """The head deadline, recording each setting (None: cleared)."""

    def __init__(self, log: list[float | None]) -> None:
        self.log = log

    def set(self, timeout: float) -> None:
        self.log.append(timeout)

    def clear(self) -> None:
        self.log.append(None)


class Server:
    """What the state machine reads of the server."""

    def __init__(self, config: ServerConfig, lifespan_state: dict[str, Any] | None = None):
        self.config = config
        self.accepting = True
        self.lifespan_state = lifespan_state
        self.date = DateHeader()


def http1(recorder: Recorder, config: ServerConfig, state: dict[str, Any] | None = None):
    """A state machine on *recorder*, its server and head deadline."""
    server = Server(config, state)
    recorder.server = server
    return Http1State(recorder, server, INFO, Deadline(recorder.deadlines))


class Recorder:
    """The connection as the state machine sees it, recording every request it makes."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.runs: list[HttpCycle] = []
        self.finished_cycles: list[HttpCycle] = []
        self.reaped: list[HttpCycle] = []
        self.errors: list[tuple[Scope, BaseException | None]] = []
        self.deadlines: list[float | None] = []
        self.upgrades: list[tuple[UpgradeRequest, bytes]] = []
        self.reading = True
        self.closed = self.aborted = False
        self.writing_paused = False

    def write(self, data: bytes) -> None:
        assert not self.closed and not self.aborted, "wrote after closing"
        self.out += data

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def run(self, cycle: HttpCycle) -> None:
        self.runs.append(cycle)

    def finished(self, cycle: HttpCycle) -> None:
        self.finished_cycles.append(cycle)

    def reap(self, cycle: HttpCycle) -> None:
        self.reaped.append(cycle)

    def app_error(self, scope: Scope, exc: BaseException | None) -> None:
        self.errors.append((scope, exc))

    def upgrade(self, request: UpgradeRequest, rest: bytes) -> None:
        self.upgrades.append((request, rest))

    async def wait_writable(self) -> None:
        return None

    def take(self) -> bytes:
        data = bytes(self.out)
        self.out.clear()
        return data


@pytest.fixture(params=PARSERS, ids=lambda fast: "httptools" if fast else "python")
def machine(request: Any) -> tuple[Http1State, Recorder]:
    recorder = Recorder()
    config = ServerConfig(use_httptools=request.param, max_header_size=2048)
    return http1(recorder, config, {"ready": True}), recorder


def respond(cycle: HttpCycle, body: bytes = b"ok", *, more: bool = False) -> None:
    async def answer() -> None:
        if cycle.state is ResponseState.WAITING:
            await cycle.send({"type": "http.response.start", "status": 200, "headers": []})
        await cycle.send({"type": "http.response.body", "body": body, "more_body": more})

    asyncio.run(answer())


def test_a_request_runs_with_its_scope_and_its_answer_keeps_the_connection(machine):
    state, rec = machine
    state.dataReceived(b"GET /a%20b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
    [cycle] = rec.runs
    scope = cycle.scope
    assert (scope["method"], scope["path"], scope["query_string"]) == ("GET", "/a b", b"x=1")
    # Lists, as upstream Daphne gives them.
    assert (scope["client"], scope["server"], scope["scheme"]) == (
        ["10.0.0.7", 5123],
        ["10.0.0.1", 8000],
        "http",
    )
    assert scope["state"] == {"ready": True}
    # The first byte armed request_header_timeout; the complete head disarmed it.
    assert rec.deadlines == [state.config.request_header_timeout, None]
    respond(cycle, b"hello")
    head, _, body = rec.take().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\nserver: daphne\r\ndate: ")
    assert b"content-length: 5" in head.lower() and b"connection: close" not in head.lower()
    assert body == b"hello"
    assert rec.finished_cycles == [cycle] and not rec.closed
    # Idle again: the next head must come within keep_alive_timeout.
    assert rec.deadlines[-1] == state.config.keep_alive_timeout
    assert not state.busy()


def test_pipelined_requests_wait_with_reading_paused_and_answer_in_order(machine):
    state, rec = machine
    state.dataReceived(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
    assert [c.scope["path"] for c in rec.runs] == ["/1"]
    assert not rec.reading and state.busy()
    respond(rec.runs[0], b"one")
    assert [c.scope["path"] for c in rec.runs] == ["/1", "/2"]
    assert rec.reading  # the queue is empty again
    respond(rec.runs[1], b"two")
    out = rec.take()
    assert out.index(b"one") < out.index(b"two")
    assert not rec.closed


def test_a_bad_pipelined_request_is_answered_after_the_good_one_before_it(machine):
    state, rec = machine
    state.dataReceived(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nBad Header\r\n\r\n")
    [cycle] = rec.runs
    assert rec.take() == b"" and not rec.reading  # the error waits its turn
    respond(cycle, b"first")
    out = rec.take()
    assert out.index(b"first") < out.index(b"400 Bad Request")
    assert rec.closed and len(rec.runs) == 1


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"b" * 4000 + b"\r\n\r\n", b"431"),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x85b\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ten\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", b"400"),
    ],
    ids=["long-target", "big-head", "nel-byte", "bad-length", "two-lengths"],
)
def test_a_refused_head_is_answered_by_the_server_and_runs_nothing(machine, head, status):
    state, rec = machine
    state.dataReceived(head)
    assert rec.runs == []
    assert rec.take().startswith(b"HTTP/1.1 " + status)
    assert rec.closed
    state.dataReceived(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")  # closing: ignored
    assert rec.runs == [] and rec.take() == b""


def test_a_websocket_upgrade_hands_over_the_request_and_the_bytes_after_it(machine):
    state, rec = machine
    head = (
        b"GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    state.dataReceived(head + b"\x81\x80frame")
    [(request, rest)] = rec.upgrades
    assert (request.kind, request.method, request.target, request.http_version) == (
        "websocket",
        b"GET",
        b"/chat",
        "1.1",
    )
    assert (b"Upgrade", b"websocket") in request.headers
    assert rest == b"\x81\x80frame"
    assert rec.runs == [] and rec.take() == b""


def test_an_upgrade_the_server_does_not_speak_is_answered_as_http_then_closed(machine):
    state, rec = machine
    state.dataReceived(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: irc\r\n\r\n")
    [cycle] = rec.runs
    assert rec.upgrades == [] and not cycle.keep_alive
    respond(cycle)
    assert b"connection: close" in rec.take().lower() and rec.closed


def test_chunked_framing_when_the_length_is_unknown_and_close_for_http10(machine):
    state, rec = machine
    state.dataReceived(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    respond(rec.runs[0], b"abc", more=True)
    assert rec.take().endswith(b"transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n")
    respond(rec.runs[0], b"")
    assert rec.take() == b"0\r\n\r\n" and not rec.closed
    state.dataReceived(b"GET / HTTP/1.0\r\n\r\n")
    respond(rec.runs[1], b"old", more=True)
    respond(rec.runs[1], b"")
    out = rec.take()
    assert b"chunked" not in out and out.endswith(b"old") and rec.closed


def test_half_close_answers_the_requests_sent_then_closes(machine):
    state, rec = machine
    state.dataReceived(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    state.read_ended()
    assert not rec.closed  # the response is still owed
    respond(rec.runs[0])
    assert rec.take().startswith(b"HTTP/1.1 200") and rec.closed


def test_head_deadline_408_for_a_trickling_head_and_a_quiet_close_when_idle(machine):
    state, rec = machine
    state.dataReceived(b"GET / HT")
    state.head_timed_out()
    assert rec.take().startswith(b"HTTP/1.1 408") and rec.closed
    quiet = Recorder()
    http1(quiet, state.config).head_timed_out()
    assert quiet.closed and quiet.take() == b""


def test_an_application_that_fails_gets_500_before_answering_and_an_abort_after(machine):
    state, rec = machine
    state.dataReceived(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n")
    boom = RuntimeError("boom")
    state.app_exited(rec.runs[0], boom)
    assert rec.errors == [(rec.runs[0].scope, boom)]
    assert rec.take().startswith(b"HTTP/1.1 500") and rec.closed
    rec2 = Recorder()
    state2 = http1(rec2, state.config)
    state2.dataReceived(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    respond(rec2.runs[0], b"half", more=True)
    state2.app_exited(rec2.runs[0], boom)
    assert rec2.aborted and not rec2.closed


def test_http_timeout_answers_503_only_while_nothing_was_sent(machine):
    state, rec = machine
    state.dataReceived(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    cycle = rec.runs[0]
    state.app_timed_out(cycle)
    assert rec.take().startswith(b"HTTP/1.1 503") and rec.closed
    assert cycle.disconnected and rec.reaped == [cycle]


def test_body_past_the_high_water_mark_pauses_reading_until_the_app_reads(machine):
    state, rec = machine
    size = 300 * 1024
    state.dataReceived(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % size)
    state.dataReceived(b"x" * size)
    assert not rec.reading
    cycle = rec.runs[0]

    async def read() -> bytes:
        message = await cycle.receive()
        return bytes(message["body"])

    # One message of at most request_buffer_size, and reading goes on.
    assert len(asyncio.run(read())) == state.config.request_buffer_size
    assert rec.reading


def test_body_over_max_body_size_is_413(machine):
    _, rec = machine
    state = http1(rec, ServerConfig(max_body_size=10))
    state.dataReceived(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
    state.dataReceived(b"20\r\n" + b"y" * 32 + b"\r\n")
    assert rec.take().startswith(b"HTTP/1.1 413") and rec.closed


def test_shutting_down_closes_after_the_response_and_idle_at_once(machine):
    state, rec = machine
    state.dataReceived(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    rec.server.accepting = False
    state.shutdown()
    assert not rec.closed
    respond(rec.runs[0])
    assert b"connection: close" in rec.take().lower() and rec.closed
    quiet = Recorder()
    http1(quiet, state.config).shutdown()
    assert quiet.closed


def test_connection_lost_disconnects_unfinished_requests_and_drops_the_parser(machine):
    state, rec = machine
    state.dataReceived(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
    [first] = rec.runs
    parser = state.parser
    state.connectionLost()
    assert len(rec.reaped) == 2  # the running request and the one queued behind it
    assert rec.reaped[0] is first and all(cycle.disconnected for cycle in rec.reaped)
    # The parser (which points back at the state) is let go of.
    assert not isinstance(state.parser, type(parser)) and not state.busy()


def test_an_unknown_upgrades_body_reaches_the_application_whole(machine):
    # The parsers stop at the head of any request asking to upgrade; when the server does not
    # speak the protocol, the Content-Length body after the head is still the request's.
    state, rec = machine
    head = b"POST /u HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: irc\r\n"
    state.dataReceived(head + b"Content-Length: 11\r\n\r\nhello")
    state.dataReceived(b" world and more")  # what follows the body is never read as a request
    [cycle] = rec.runs

    async def read_all() -> bytes:
        body = b""
        while True:
            message = await cycle.receive()
            body += message["body"]
            if not message["more_body"]:
                return body

    assert asyncio.run(read_all()) == b"hello world"
    assert rec.upgrades == [] and len(rec.runs) == 1 and not cycle.keep_alive


def test_an_unknown_upgrade_with_a_chunked_body_is_refused(machine):
    state, rec = machine
    head = b"POST / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: irc\r\n"
    state.dataReceived(head + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert rec.runs == []
    assert rec.take().startswith(b"HTTP/1.1 400") and rec.closed
