"""A TLS client socket that can end its sending side the TLS way and keep reading.

``ssl.SSLSocket`` cannot send close_notify without also waiting for the server's (``unwrap``),
and its ``shutdown(SHUT_WR)`` drops TLS and sends a bare FIN, which RFC 8446 §6.1 calls a
truncation. This one runs TLS through memory BIOs over a plain socket: ``shutdown(SHUT_WR)``
sends close_notify ("each party MUST send a close_notify alert before closing its write
side"), then the FIN, and ``recv`` keeps returning what the server still sends. OpenSSL
reads application data after it sent close_notify, so this is what a half-closing client
built on it does. It offers the few socket methods ``_wire.Connection`` uses.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class MemoryBioTLSSocket:
    def __init__(self, sock: socket.socket, context: ssl.SSLContext, server_hostname: str) -> None:
        self.raw = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, False, server_hostname)
        self._run(self._tls.do_handshake)

    def _send_pending(self) -> None:
        data = self._outgoing.read()
        if data:
            self.raw.sendall(data)

    def _run(self, operation: Callable[[], T]) -> T:
        """Run one TLS operation, feeding it from the socket for as long as it wants input."""
        while True:
            try:
                result = operation()
            except ssl.SSLWantReadError:
                self._send_pending()
                data = self.raw.recv(65536)  # the socket's timeout bounds the wait
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()  # the next operation reports how TLS ended
                continue
            self._send_pending()
            return result

    def settimeout(self, timeout: float | None) -> None:
        self.raw.settimeout(timeout)

    def sendall(self, data: bytes) -> None:
        self._run(lambda: self._tls.write(data))

    def recv(self, size: int) -> bytes:
        """Like ``SSLSocket.recv``: b"" at the end, whether close_notify or a bare FIN ended it."""
        try:
            return self._run(lambda: self._tls.read(size))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def shutdown(self, how: int) -> None:
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            try:
                self._tls.unwrap()
            except ssl.SSLWantReadError:
                pass  # ours is sent; the server's close_notify comes after its responses
            self._send_pending()
        self.raw.shutdown(how)

    def close(self) -> None:
        self.raw.close()


__all__ = ["MemoryBioTLSSocket"]
