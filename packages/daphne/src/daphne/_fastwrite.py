"""Writing to a TCP transport without a trip through the reactor when its buffer is empty.

Twisted's ``write`` always buffers, registers the socket for writability, and sends on the
next loop iteration, which costs two epoll modifications per response. When nothing is
queued, sending right away is equivalent (ordering is preserved because the buffer is empty)
and much cheaper. Anything not sent, or any other transport (TLS, UNIX, fd), takes the normal
path. The check uses FileDescriptor buffer attributes; if a Twisted release renames them the
helper falls back to plain ``write``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import tcp

Writer = Callable[[bytes], None]


def make_writer(transport: Any) -> Writer:
    sock = getattr(transport, "socket", None)
    if (
        sock is None
        or not isinstance(transport, tcp.Connection)
        or not hasattr(transport, "_tempDataLen")
        or not hasattr(transport, "dataBuffer")
    ):
        return transport.write  # type: ignore[no-any-return]
    send = sock.send
    fallback = transport.write

    def write(data: bytes) -> None:
        if (
            not transport.dataBuffer
            and not transport._tempDataLen
            and transport.connected
            and not transport.disconnecting
        ):
            try:
                sent = send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                sent = 0  # Twisted's own write path meets the error and reports the loss.
            if sent == len(data):
                return
            data = data[sent:]
        fallback(data)  # type: ignore[no-untyped-call]

    return write


__all__ = ["Writer", "make_writer"]
