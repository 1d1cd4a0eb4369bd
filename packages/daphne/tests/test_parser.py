"""Both request parsers, driven through the same callbacks, agree on valid and invalid input."""

from __future__ import annotations

import pytest
from daphne._parser import ParseError, UpgradeRequested, feed, make_parser
from hypothesis import given
from hypothesis import strategies as st


class Collector:
    def __init__(self):
        self.messages = []

    def on_message_begin(self):
        self.current = {"url": b"", "headers": [], "body": b""}

    def on_url(self, url):
        self.current["url"] += url

    def on_header(self, name, value):
        # llhttp keeps trailing whitespace in values; the protocol strips it for both parsers
        # (tested end to end in test_http1), so compare stripped values here.
        self.current["headers"].append((name, value.rstrip(b" \t")))

    def on_headers_complete(self):
        pass

    def on_body(self, body):
        self.current["body"] += body

    def on_message_complete(self):
        self.messages.append(self.current)


def parse(kind, data, split=None):
    collector = Collector()
    parser = make_parser(collector, kind == "httptools")
    pieces = [data] if split is None else [data[i : i + split] for i in range(0, len(data), split)]
    for piece in pieces:
        feed(parser, piece)
    return collector.messages, parser


@pytest.fixture(params=["httptools", "python"])
def kind(request):
    return request.param


def test_simple_request(kind):
    messages, parser = parse(kind, b"GET /a?b HTTP/1.1\r\nHost: x\r\nX-A:  v \r\n\r\n")
    assert messages == [{"url": b"/a?b", "headers": [(b"Host", b"x"), (b"X-A", b"v")], "body": b""}]
    assert parser.get_method() == b"GET"
    assert parser.get_http_version() == "1.1"
    assert parser.should_keep_alive()


@given(
    body=st.binary(max_size=300),
    chunk=st.integers(1, 50),
    split=st.integers(1, 40),
    kind=st.sampled_from(["httptools", "python"]),
)
def test_chunked_bodies_any_split(body, chunk, split, kind):
    encoded = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + chunk]), body[i : i + chunk])
        for i in range(0, len(body), chunk)
    )
    request = (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + encoded + b"0\r\n\r\n"
    )
    messages, _ = parse(kind, request, split=split)
    assert len(messages) == 1
    assert messages[0]["body"] == body


@given(
    body=st.binary(max_size=300),
    split=st.integers(1, 40),
    kind=st.sampled_from(["httptools", "python"]),
)
def test_content_length_bodies_and_pipelining_any_split(body, split, kind):
    one = b"POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    two = b"GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
    messages, _ = parse(kind, one + two, split=split)
    assert [m["url"] for m in messages] == [b"/1", b"/2"]
    assert messages[0]["body"] == body


def test_upgrade_reports_offset_of_remaining_bytes(kind):
    head = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    with pytest.raises(UpgradeRequested) as info:
        parse(kind, head + b"FRAME")
    assert (head + b"FRAME")[info.value.args[0] :] == b"FRAME"


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nG\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx",
        b"GET /\x00 HTTP/1.1\r\n\r\n",
    ],
)
def test_invalid_input_raises_parse_error(kind, data):
    with pytest.raises(ParseError) as info:
        parse(kind, data)
    assert info.value.status == 400


@given(data=st.binary(max_size=200))
def test_pure_parser_never_raises_anything_but_parse_error_or_upgrade(data):
    try:
        parse("python", data)
    except (ParseError, UpgradeRequested):
        pass
