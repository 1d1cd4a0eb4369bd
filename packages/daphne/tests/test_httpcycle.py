"""HttpCycle, the IO-free request/response state of one HTTP exchange, driven directly."""

from __future__ import annotations

import asyncio

import pytest
from daphne._httpcycle import HttpCycle, ProtocolError, validate_headers


class Sink:
    """A response sink that records nothing and never pauses."""

    def write_head(self, cycle, status, headers):
        pass

    def write_body(self, cycle, data, more):
        pass

    def send_continue(self, cycle):
        pass

    def body_drained(self, cycle):
        pass

    async def wait_writable(self):
        pass


def test_body_that_arrived_before_the_client_left_is_delivered_before_the_disconnect():
    async def scenario():
        cycle = HttpCycle(
            {"type": "http", "method": "POST"},
            Sink(),
            expect_continue=False,
            keep_alive=True,
            max_chunk=1,
        )
        cycle.feed_body(b"abc")
        cycle.end_body()
        cycle.disconnect()
        return [await cycle.receive() for _ in range(4)]

    messages = asyncio.run(scenario())
    assert [m.get("body") for m in messages[:3]] == [b"a", b"b", b"c"]
    assert [m.get("more_body") for m in messages[:3]] == [True, True, False]
    assert messages[3] == {"type": "http.disconnect"}


def _cycle(max_chunk=None):
    cycle = HttpCycle(
        {"type": "http", "method": "POST"},
        Sink(),
        expect_continue=False,
        keep_alive=True,
        max_chunk=max_chunk,
    )
    cycle.task = asyncio.current_task()  # the application is running
    return cycle


async def _respond(cycle):
    await cycle.send({"type": "http.response.start", "status": 200})
    await cycle.send({"type": "http.response.body", "body": b"ok"})


def test_body_still_arriving_after_the_response_is_delivered_before_the_disconnect():
    async def scenario():
        cycle = _cycle()
        cycle.feed_body(b"first")
        first = await cycle.receive()
        await _respond(cycle)
        pending = asyncio.ensure_future(cycle.receive())
        await asyncio.sleep(0)
        assert not pending.done()  # the rest of the body is on its way: no disconnect yet
        assert cycle.took_late_body(b"-end", limit=1024)
        cycle.end_body()
        return [first, await pending, await cycle.receive()]

    first, rest, last = asyncio.run(scenario())
    assert (first["body"], first["more_body"]) == (b"first", True)
    assert (rest["body"], rest["more_body"]) == (b"-end", False)
    assert last == {"type": "http.disconnect"}


def test_late_body_past_the_limit_ends_input_after_what_was_kept():
    async def scenario():
        cycle = _cycle()
        cycle.feed_body(b"a")
        await cycle.receive()
        await _respond(cycle)
        assert cycle.took_late_body(b"bb", limit=4)
        assert cycle.took_late_body(b"ccc", limit=4)  # 2 + 3 > 4: input ends here
        return [await cycle.receive(), await cycle.receive()]

    kept, last = asyncio.run(scenario())
    assert kept["body"] == b"bb"
    assert last == {"type": "http.disconnect"}


def test_late_body_is_dropped_once_the_application_has_returned():
    async def scenario():
        cycle = _cycle()
        cycle.task = asyncio.ensure_future(asyncio.sleep(0))
        await cycle.task
        await _respond(cycle)
        assert cycle.took_late_body(b"ignored", limit=1024)
        return cycle.buffered_body()

    assert asyncio.run(scenario()) == 0


def test_body_before_the_response_is_not_taken_as_late():
    async def scenario():
        cycle = _cycle()
        return cycle.took_late_body(b"x", limit=1024), cycle.buffered_body()

    assert asyncio.run(scenario()) == (False, 0)


def test_response_header_validation():
    assert validate_headers([(b"a", b"b")]) == [(b"a", b"b")]
    with pytest.raises(ProtocolError, match="expected to be `bytes`"):
        validate_headers([("a", "b")])
    with pytest.raises(ProtocolError, match="CR, LF"):
        validate_headers([(b"a", b"b\r\nc: d")])
    with pytest.raises(ProtocolError, match="pair"):
        validate_headers([(b"a",)])
