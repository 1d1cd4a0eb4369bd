"""HttpCycle, the IO-free request/response state of one HTTP exchange, driven directly."""

from __future__ import annotations

import asyncio

from daphne._httpcycle import HttpCycle


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
