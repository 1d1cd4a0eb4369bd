"""Facts about a connection's transport, read once when it is made."""

from __future__ import annotations

from typing import Any

from twisted.internet import address
from twisted.internet.interfaces import ISSLTransport

from ._context import TransportInfo
from ._types import Address


def _address(addr: Any) -> Address | None:
    if isinstance(addr, (address.IPv4Address, address.IPv6Address)):
        return (addr.host, addr.port)
    return None  # UNIX sockets and inherited descriptors have no host/port pair.


def transport_info(transport: Any) -> TransportInfo:
    """The addresses of both ends and whether the transport is TLS."""
    return TransportInfo(
        client=_address(transport.getPeer()),
        server=_address(transport.getHost()),
        secure=ISSLTransport.providedBy(transport),
    )


def close_transport(transport: Any, gate: Any = None) -> None:
    """Write what is buffered, then close (TLS: close_notify, then TCP FIN).

    Twisted's TLS transport holds ``loseConnection`` until the registered producer is
    unregistered (plain TCP does not wait), and daphne's producers are flow-control gates that
    never unregister by themselves: without this release a TLS connection that must close
    stays open. ``gate`` (the connection's WriteGate) is woken so no sender waits on a
    transport that will not resume it again.
    """
    transport.unregisterProducer()
    if gate is not None:
        gate.wake()
    transport.loseConnection()


__all__ = ["TransportInfo", "close_transport", "transport_info"]
