"""TLS listening sockets whose connections survive the client's close_notify as a half-close.

Twisted's TLS layer treats the peer's close_notify as the end of the whole connection: it
answers with its own close_notify and closes TCP at once, so responses to requests the client
pipelined before closing its side are never written. RFC 8446 6.1 makes close_notify the end
of one direction only ("each party MUST send a close_notify alert before closing its write
side"; the other side may keep writing), exactly what a TCP FIN is on plain sockets. Here
the close_notify reaches a half-closeable application protocol as ``readConnectionLost``,
and our own close_notify goes out when that protocol calls ``loseConnection``.

A TCP FIN with no close_notify before it is a truncation (it may be an attacker cutting the
stream), so it still ends the connection, as it did before.

When the server closes, TCP closes right after its close_notify: Twisted waits for the peer's
close_notify first, so a client that never sends one (most just stop reading) would never see
the FIN and would hold the server's socket for as long as it likes.

``ssl:`` endpoint descriptions listen through :class:`HalfCloseTLSReactor`; every other
reactor call passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from OpenSSL.SSL import WantReadError, ZeroReturnError
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.protocols.tls import TLSMemoryBIOFactory
from zope.interface import implementer  # type: ignore[import-untyped]

try:  # Twisted >= 23.10 gathers small writes into one TLS record; keep that where it exists.
    from twisted.protocols.tls import BufferingTLSTransport as _TLSProtocol
except ImportError:  # pragma: no cover - Twisted 23.8
    from twisted.protocols.tls import TLSMemoryBIOProtocol as _TLSProtocol  # type: ignore[assignment]


class _CloseNotifyWatch:
    """Stands in for the OpenSSL connection, with the two changes this module is about."""

    def __init__(self, connection: Any, on_close_notify: Callable[[], bool]) -> None:
        self._connection = connection
        self._on_close_notify = on_close_notify

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def recv(self, size: int) -> bytes:
        """The peer's close_notify (``ZeroReturnError``) becomes "no more input for now" when
        ``on_close_notify`` takes it as a half-close."""
        try:
            return self._connection.recv(size)  # type: ignore[no-any-return]
        except ZeroReturnError:
            if not self._on_close_notify():
                raise
            raise WantReadError() from None  # ends Twisted's read loop, leaves TLS open

    def shutdown(self) -> bool:
        """Our close_notify is enough to close TCP (RFC 8446 6.1: no need to wait for the
        peer's). Twisted would otherwise keep the socket until the client answers with its own
        close_notify, and a client that never does would hold it forever."""
        self._connection.shutdown()
        return True


@implementer(IHalfCloseableProtocol)
class HalfCloseTLSProtocol(_TLSProtocol):
    """A server-side TLS connection that reports close_notify as end-of-input."""

    _input_ended = False  # the peer's close_notify arrived and the wrapped protocol took it
    _input_end_told = False

    def makeConnection(self, transport: Any) -> None:
        super().makeConnection(transport)  # type: ignore[no-untyped-call]
        if self._tlsConnection is not None:
            watch = _CloseNotifyWatch(self._tlsConnection, self._close_notify)
            self._tlsConnection = watch  # type: ignore[assignment]

    def _close_notify(self) -> bool:
        if self._input_ended:
            return True
        if self.disconnecting or IHalfCloseableProtocol(self.wrappedProtocol, None) is None:
            return False  # Twisted's own handling: answer close_notify and close
        self._input_ended = True
        return True

    def dataReceived(self, data: bytes) -> None:
        super().dataReceived(data)  # type: ignore[no-untyped-call]
        # Told after Twisted's read loop has finished, so the protocol may close right away.
        if self._input_ended and not self._input_end_told and self.connected:
            self._input_end_told = True
            self.wrappedProtocol.readConnectionLost()

    # IHalfCloseableProtocol, for the TCP connection underneath -------------------------------

    def readConnectionLost(self) -> None:
        if not self._input_ended:
            # FIN without close_notify: truncation (RFC 8446 6.1), nothing to finish.
            self.transport.abortConnection()  # type: ignore[union-attr]
        # After close_notify the FIN adds nothing: the write side stays open until our
        # protocol calls loseConnection, which sends our close_notify and closes TCP.

    def writeConnectionLost(self) -> None:
        pass  # only after loseWriteConnection, which TLS connections never call


class HalfCloseTLSFactory(TLSMemoryBIOFactory):
    protocol = HalfCloseTLSProtocol


class HalfCloseTLSReactor:
    """A reactor whose ``listenSSL`` wraps connections in :class:`HalfCloseTLSProtocol`."""

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reactor, name)

    def listenSSL(
        self, port: int, factory: Any, contextFactory: Any, backlog: int = 50, interface: str = ""
    ) -> Any:
        wrapped = HalfCloseTLSFactory(contextFactory, False, factory)
        return self._reactor.listenTCP(port, wrapped, backlog, interface)


__all__ = ["HalfCloseTLSFactory", "HalfCloseTLSProtocol", "HalfCloseTLSReactor"]
