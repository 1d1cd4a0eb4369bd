"""Autobahn, configured and trimmed for daphne: framing, pings, limits and compression.

Autobahn only sees a connection after the application accepted it (see ``_websocket``); these
classes forward its events to that bridge and remove per-connection and per-frame costs that
Autobahn pays even with debug logging off.
"""

from __future__ import annotations

import struct
from typing import Any, Protocol

import txaio
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept
from autobahn.websocket.protocol import WebSocketProtocol

from ._autobahn_fence import check_autobahn
from ._context import ServerContext

_HEAD16 = struct.Struct("!BBH")
_HEAD64 = struct.Struct("!BBQ")


def unmask(mask: bytes, payload: bytes) -> bytes:
    """XOR ``payload`` with the repeating 4-byte ``mask`` (RFC 6455 5.3), via big integers."""
    size = len(payload)
    if not size:
        return b""
    key = (mask * ((size >> 2) + 1))[:size]
    value = int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")
    return value.to_bytes(size, "little")


class _AutobahnSide(WebSocketServerProtocol):
    """Autobahn's protocol, forwarding events to the bridge that owns it."""

    bridge: Any  # the WebSocketConnection that owns this protocol
    # Autobahn copies these from the factory and pretty-prints the list on every connection,
    # even with debug logging off; we copy a precomputed dict instead (see _connectionMade).
    _FACTORY_ATTRS = tuple(WebSocketServerProtocol.CONFIG_ATTRS)
    CONFIG_ATTRS: list[str] = []

    def connectionMade(self) -> None:
        # Autobahn's Twisted adapter would build "transport details" (peer strings, TLS
        # channel id) for WAMP and format a colourised debug line (with click, when installed)
        # on every connection before checking the log level. The HTTP connection already set
        # TCP_NODELAY; what remains is the framework-independent setup below.
        self._connectionMade()

    def _connectionMade(self) -> None:
        config = self.factory.daphne_config
        self.__dict__.update(config)
        sizes = (config["maxFramePayloadSize"], config["maxMessagePayloadSize"])
        self._fast_limit = min((n for n in sizes if n), default=0)
        self._fast_send = not config["autoFragmentSize"]
        # WebSocketServerProtocol's version adds only a debug line to these two.
        WebSocketProtocol._connectionMade(self)  # type: ignore[no-untyped-call]
        self.factory.countConnections += 1

    def dataReceived(self, data: bytes) -> None:
        # Autobahn's adapter formats a debug line per chunk before checking the log level.
        self._dataReceived(data)

    def processData(self) -> bool:
        if (
            self.current_frame is None
            and not self.inside_message
            and self._perMessageCompress is None
            and self.state == self.STATE_OPEN
        ):
            self._fast_frames()
        return bool(super().processData())

    def _fast_frames(self) -> None:
        """Deliver complete, unfragmented, masked text/binary frames without Autobahn's
        per-frame state machine. Anything else (control frames, fragments, extensions,
        oversize, bad UTF-8, non-minimal lengths) stops the loop and is left to Autobahn,
        which then raises the same errors it always would.
        """
        data = self.data
        size = len(data)
        pos = 0
        limit = self._fast_limit
        bridge = self.bridge
        while size - pos >= 6:
            first = data[pos]
            second = data[pos + 1]
            if (first != 0x81 and first != 0x82) or second < 0x80:
                break
            length = second & 0x7F
            head = pos + 2
            if length == 126:
                if size - pos < 8:
                    break
                length = (data[head] << 8) | data[head + 1]
                if length < 126:
                    break
                head += 2
            elif length == 127:
                break
            if limit and length > limit:
                break
            end = head + 4 + length
            if end > size:
                break
            payload = unmask(data[head : head + 4], data[head + 4 : end])
            if first == 0x81:
                try:
                    text = payload.decode("utf-8")
                except UnicodeDecodeError:
                    break
                pos = end
                bridge.on_text(text)
            else:
                pos = end
                bridge.on_message(payload, True)
        if pos:
            self.data = data[pos:]

    def sendMessage(
        self,
        payload: bytes,
        isBinary: bool = False,
        fragmentSize: int | None = None,
        sync: bool = False,
        doNotCompress: bool = False,
    ) -> None:
        if (
            self.state != self.STATE_OPEN
            or fragmentSize
            or sync
            or not self._fast_send
            or self._perMessageCompress is not None
        ):
            super().sendMessage(payload, isBinary, fragmentSize, sync, doNotCompress)  # type: ignore[no-untyped-call]
            return
        # One unmasked, unfragmented frame: what Autobahn would build, without its checks.
        length = len(payload)
        opcode = 0x82 if isBinary else 0x81
        if length < 126:
            head = bytes((opcode, length))
        elif length < 65536:
            head = _HEAD16.pack(opcode, 126, length)
        else:
            head = _HEAD64.pack(opcode, 127, length)
        self.sendData(head + payload)

    def sendData(self, data: bytes, sync: bool = False, chopsize: int | None = None) -> None:
        # Same as Autobahn's plain path, minus a debug line it formats on every frame.
        if sync or chopsize or self.send_queue or getattr(self, "logOctets", False):
            super().sendData(data, sync, chopsize)
            return
        transport: Any = self.transport
        transport.write(data)
        if self.state == self.STATE_OPEN:
            self.trafficStats.outgoingOctetsWireLevel += len(data)
        elif self.state == self.STATE_CONNECTING:
            self.trafficStats.preopenOutgoingOctetsWireLevel += len(data)

    def open_accepted(
        self, key: str, protocols: list[str], extensions: str | None, rest: bytes
    ) -> None:
        """Finish the opening handshake that the bridge checked and the application accepted.

        Replaying the request into Autobahn would parse the head a second time, formatting
        debug lines on the way; the fields that parse would set come from the bridge instead,
        and Autobahn's own ``succeedHandshake`` negotiates extensions and answers 101.
        """
        self.websocket_version = 13
        self.websocket_protocols = protocols
        self.websocket_extensions = (
            self._parseExtensionsHeader(extensions)  # type: ignore[no-untyped-call]
            if extensions
            else []
        )
        self._wskey = key
        self.data = rest
        self.succeedHandshake(self.bridge.accept_params)

    def connectionLost(self, reason: Any = None) -> None:
        # The adapter and WebSocketServerProtocol layers only format debug lines around this.
        WebSocketProtocol._connectionLost(self, reason)  # type: ignore[no-untyped-call]
        self.factory.countConnections -= 1
        # Autobahn resolves ``is_closed`` with the protocol itself, a cycle that would leave
        # every closed connection (and all it holds) to the garbage collector.
        self.is_closed = self.is_open = None

    def onConnect(self, request: Any) -> Any:
        return self.bridge.accept_params

    def _onOpen(self) -> None:
        # Autobahn's Twisted adapter would first read the TLS channel id and peer certificate
        # into its transport details (for WAMP); daphne uses neither, and the transport here is
        # the FastWriteTransport wrapper, which Autobahn does not recognise as TLS.
        self.onOpen()

    def onOpen(self) -> None:
        self.bridge.on_open()

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.bridge.on_message(payload, isBinary)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        if code is None and wasClean:
            code = 1005  # a close frame without a status code (RFC 6455 7.1.5; ASGI says 1005)
        self.bridge.on_close(code, reason)


class FastWriteTransport:
    """The connection's transport with ``write`` replaced by the optimistic writer.

    Autobahn writes every frame through ``transport.write``; everything else is delegated.
    """

    def __init__(self, transport: Any, write: Any) -> None:
        self._transport = transport
        self.write = write

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _deflate_acceptor(window_bits: int) -> Any:
    def accept(offers: list[Any]) -> Any:
        for offer in offers:
            if isinstance(offer, PerMessageDeflateOffer):
                # Our sending window is ours to choose (at most what the client asked for);
                # the client's window can only be limited if it said it accepts that.
                ceiling = offer.request_max_window_bits or 15
                # zlib's compressor holds 2**(bits+2) + 2**(mem_level+9) bytes; scaling the
                # memory level with the window makes small windows actually save memory.
                return PerMessageDeflateOfferAccept(  # type: ignore[no-untyped-call]
                    offer,
                    window_bits=min(window_bits, ceiling),
                    request_max_window_bits=window_bits if offer.accept_max_window_bits else 0,
                    mem_level=max(1, window_bits - 7),
                )
        return None

    return accept


class ActionLog(Protocol):
    """What the factory's owner must offer: upstream's ``Server.log_action``."""

    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None: ...


class WebSocketFactory(WebSocketServerFactory):
    """Autobahn's server factory, bound to the daphne server that owns it.

    Same signature as upstream's ``daphne.ws_protocol.WebSocketFactory``: the daphne server
    first, then Autobahn's own arguments. Autobahn only frames sockets the application already
    accepted; the handshake and the ASGI side live in ``_websocket``.
    """

    protocol = _AutobahnSide

    def __init__(self, server_class: ActionLog, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self.server_class = server_class

    def log_action(self, *args: Any) -> None:
        """Pass ``(protocol, action, details)`` on to the owning server's ``log_action``."""
        self.server_class.log_action(*args)


def build_autobahn_factory(server: ServerContext) -> Any:
    # Once per server, before the first connection: an Autobahn without what daphne relies on
    # fails here, naming what is missing, not mid-frame later (and not at import time).
    check_autobahn()
    config = server.config
    # Autobahn's timers (auto-ping timeouts, the closing handshake) go through txaio's one
    # global loop, which the first factory of the process fixes; a factory made earlier (by
    # the application, or by a parent process before a fork) would leave them on a reactor
    # that never runs. daphne's reactor is the one that runs them.
    txaio.config.loop = server.reactor  # type: ignore[attr-defined]  # set by use_twisted()
    factory: Any = WebSocketFactory(
        server,
        server=config.server_name.decode("latin-1") if config.server_name else None,
        protocols=list(config.ws_protocols) if config.ws_protocols else None,
        reactor=server.reactor,
    )
    options: dict[str, Any] = {
        "autoPingInterval": config.ping_interval,
        "autoPingTimeout": config.ping_timeout,
        "allowNullOrigin": True,
        # The request is replayed whole after the app accepted, so Autobahn's handshake
        # finishes synchronously; its timer would only cost a callLater per connection. The
        # head itself is bounded by request_header_timeout, the app by the connect timeout.
        "openHandshakeTimeout": 0,
        "maxFramePayloadSize": config.websocket_max_frame_size,
        "maxMessagePayloadSize": config.websocket_max_message_size,
        "failByDrop": False,
        # RFC 6455 5.5.1: the reply to a client's close frame echoes its status code (4000
        # stays 4000; Autobahn would answer 1000), so the client learns its code arrived.
        "echoCloseCodeReason": True,
    }
    if config.websocket_per_message_deflate:
        options["perMessageCompressionAccept"] = _deflate_acceptor(
            config.websocket_deflate_window_bits
        )
    factory.setProtocolOptions(**options)
    factory.daphne_config = {name: getattr(factory, name) for name in _AutobahnSide._FACTORY_ATTRS}
    return factory


__all__ = ["FastWriteTransport", "WebSocketFactory", "build_autobahn_factory", "unmask"]
