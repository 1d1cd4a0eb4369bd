"""Closing HTTP/1.1 connections over TLS: the server's close_notify and FIN, a client's half-close.

Over plain TCP a response that must end the connection is followed by a FIN, and a client's
FIN still gets every response it pipelined. Over TLS the same must hold with TLS's own end of
stream, close_notify (RFC 8446 6.1), in front of the FIN. The client here drives TLS through
memory BIOs over a raw socket, so it decides exactly when its close_notify and its FIN leave,
and it can tell the server's close_notify from a bare FIN or from a connection left open.
Every timeout is a hang guard (seconds), never a measurement.
"""

from __future__ import annotations

import re
import socket
import ssl

import pytest

GUARD = 10.0  # seconds; only a server that never closes reaches it
PIPELINED = 50


class TLSClient:
    """One TLS client connection whose close_notify and FIN the test sends explicitly."""

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext) -> None:
        self.sock = socket.create_connection(address, timeout=GUARD)
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=address[0])
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                if not self._fill():
                    raise ConnectionError("the server closed during the TLS handshake") from None
        self._flush()

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _fill(self) -> bool:
        """Move one read of the socket into TLS; False at the TCP end of stream."""
        data = self.sock.recv(65536)
        if not data:
            self.incoming.write_eof()
            return False
        self.incoming.write(data)
        return True

    def send(self, data: bytes) -> None:
        self.tls.write(data)
        self._flush()

    def close_write(self, fin: bool) -> None:
        """Send close_notify (TLS's "I send no more"), then the TCP FIN when ``fin``."""
        try:
            self.tls.unwrap()
        except ssl.SSLWantReadError:
            pass  # ours is out; the server's close_notify comes after its responses
        self._flush()
        if fin:
            self.sock.shutdown(socket.SHUT_WR)

    def read_until_closed(self) -> tuple[bytes, str]:
        """What the server sent, and how the connection ended: "close_notify" (then the FIN),
        "fin" (no close_notify: a truncated TLS stream), "open" (the guard ran out), "reset"."""
        received = bytearray()
        while True:
            try:
                data = self.tls.read(65536)
            except ssl.SSLWantReadError:
                data = None
            except ssl.SSLZeroReturnError:
                data = b""  # raised instead of b"" once our own close_notify is out
            except ssl.SSLEOFError:
                return bytes(received), "fin"
            if data:
                received += data
                continue
            if data is not None:
                return bytes(received), self._after_close_notify()
            try:
                self._fill()
            except TimeoutError:
                return bytes(received), "open"
            except ConnectionResetError:
                return bytes(received), "reset"

    def _after_close_notify(self) -> str:
        try:
            # TCP must end right after it: nothing more may follow close_notify.
            return "close_notify, then data" if self.sock.recv(65536) else "close_notify"
        except TimeoutError:
            return "close_notify, TCP left open"
        finally:
            self.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def tls_address(pool, stack, certificate):
    key, cert = certificate
    endpoint = f"ssl:0:privateKey={key}:certKey={cert}:interface=127.0.0.1"
    return pool.get(endpoints=[endpoint], **stack)


@pytest.fixture
def client(tls_address, certificate):
    context = ssl.create_default_context(cafile=str(certificate[1]))
    context.set_alpn_protocols(["http/1.1"])
    connection = TLSClient(tls_address, context)
    yield connection
    connection.close()


def _get(path: str, *headers: str, version: str = "HTTP/1.1") -> bytes:
    lines = [f"GET {path} {version}", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_connection_close_ends_with_close_notify_and_fin(client):
    """RFC 9112 9.6: after a response to "Connection: close" the server closes; over TLS that
    is close_notify, then FIN (TLS held the close while daphne's write gate was registered)."""
    client.send(_get("/", "Connection: close"))
    data, ending = client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 200 "), data
    assert data.endswith(b"Hello, world!"), data
    assert ending == "close_notify"


def test_http10_response_ends_with_close_notify_and_fin(client):
    """RFC 9112 9.3: an HTTP/1.0 request without keep-alive gets one response, then the close."""
    client.send(_get("/stream", version="HTTP/1.0"))
    data, ending = client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 200 "), data
    assert data.endswith(b"one,two,three"), data
    assert ending == "close_notify"


def test_400_ends_with_close_notify_and_fin(client):
    """RFC 9112 6.3: two different Content-Length values are a 400, and framing is lost, so
    the server must close after it."""
    client.send(_get("/", "Content-Length: 1", "Content-Length: 2") + b"xy")
    data, ending = client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 400 "), data
    assert ending == "close_notify"


@pytest.mark.parametrize("fin", [False, True], ids=["close_notify", "close_notify+fin"])
def test_pipelined_requests_then_tls_half_close_get_every_response(client, fin):
    """RFC 9112 9.3.2 and 9.6 with RFC 8446 6.1: a client that pipelines requests and then
    closes its sending side still gets every response, then the server's close_notify + FIN.

    Over TLS a client ends its sending side with close_notify ("each party MUST send a
    close_notify alert before closing its write side"), optionally followed by the TCP FIN; a
    bare FIN would be a truncation. OpenSSL keeps reading after it sent close_notify, so this
    is what an OpenSSL-based client that half-closes does. Before the fix, Twisted answered
    the client's close_notify by closing at once and the pipelined responses were lost.
    """
    client.send(b"".join(_get(f"/scope/{index}") for index in range(PIPELINED)))
    client.close_write(fin)
    data, ending = client.read_until_closed()
    paths = re.findall(rb'"path": "(/scope/\d+)"', data)
    assert paths == [b"/scope/%d" % index for index in range(PIPELINED)]
    assert data.count(b"HTTP/1.1 200 ") == PIPELINED
    assert ending == "close_notify"


def _upgrade(path: str) -> bytes:
    return _get(
        path,
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    )


@pytest.mark.parametrize(("path", "status"), [("/ws/reject", b"403"), ("/ws/deny", b"401")])
def test_rejected_websocket_handshake_ends_with_close_notify_and_fin(client, path, status):
    """RFC 6455 4.2.2: a refused handshake is an HTTP response and the end of the
    connection; over TLS that end is close_notify, then FIN, as for any must-close response."""
    client.send(_upgrade(path))
    received, ending = client.read_until_closed()
    assert received.startswith(b"HTTP/1.1 " + status), received[:80]
    assert ending == "close_notify"


def test_websocket_closed_by_the_client_ends_with_close_notify_and_fin(client):
    """RFC 6455 7.1.1: after the closing handshake the server closes the TCP connection
    first; over TLS, with its close_notify in front. (When the server started the closing
    handshake, Autobahn aborts the TCP connection once the client answers, TLS or not.)"""
    client.send(_upgrade("/ws/echo"))
    head = b""
    while b"\r\n\r\n" not in head:
        client._fill()
        try:
            head += client.tls.read(65536)
        except ssl.SSLWantReadError:
            pass
    assert head.startswith(b"HTTP/1.1 101 "), head[:80]
    # A masked close frame with code 1000 (0x03E8), masking key 1, 2, 3, 4.
    client.send(bytes([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2]))
    received, ending = client.read_until_closed()
    assert received.startswith(bytes([0x88, 0x02, 0x03, 0xE8])), received[:8]  # echoed close
    assert ending == "close_notify"
