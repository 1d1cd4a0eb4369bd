"""The h2 state machine daphne gives Twisted's HTTP/2 channel.

Twisted's ``H2Connection`` (``twisted.web._http2``) runs streams, flow control and priority
on an ``h2`` connection it keeps in its ``conn`` attribute. Daphne swaps in this subclass
before the channel is connected, which changes three things and nothing else:

- the first SETTINGS frame advertises ``SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`` (RFC 8441 3),
  so a client may open WebSockets with an extended CONNECT; the setting is in the very first
  frame because a client may not send ``:protocol`` before it has seen it;
- an extended CONNECT's ``:protocol`` is remembered per stream (Twisted's header conversion
  drops pseudo-headers it does not know), for the request object to pick up;
- after an h2c upgrade, the upgraded HTTP/1.1 request is handed to Twisted as stream 1's
  events on the first ``receive_data`` (which daphne calls with no bytes right away).

``initiate_connection`` is idempotent: h2's upgrade path sends the preface itself, and
Twisted's ``connectionMade`` would send a second one.

Twisted's private module is imported in this one place (``twisted_channel``), and only its
long-stable surface is used: the class, ``conn``, ``requestFactory`` and ``timeOut``. What
daphne relies on there is fenced: ``_h2_fence`` lists it and a server checks it at start.
"""

from __future__ import annotations

from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings

from ._h2c import PREFACE


class DaphneH2State(h2.connection.H2Connection):
    """A server-side ``h2`` connection with extended CONNECT and h2c upgrade support."""

    def __init__(self) -> None:
        super().__init__(h2.config.H2Configuration(client_side=False, header_encoding=None))
        self.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: self.DEFAULT_MAX_HEADER_LIST_SIZE,
                h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL: 1,
            },
        )
        self.protocols: dict[int, bytes] = {}  # stream id -> :protocol of an extended CONNECT
        self._initiated = False
        self._injected: list[h2.events.Event] = []

    def initiate_connection(self) -> None:
        if not self._initiated:
            self._initiated = True
            super().initiate_connection()

    def upgrade(self, settings: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Take an h2c upgrade: apply the client's settings and queue stream 1's request.

        ``settings`` is the decoded HTTP2-Settings payload; h2 raises (ProtocolError,
        hyperframe's InvalidFrameError) for values it refuses, before anything was sent.
        """
        import base64

        self.initiate_upgrade_connection(base64.urlsafe_b64encode(settings))
        self._injected.append(_event(h2.events.RequestReceived, stream_id=1, headers=headers))
        if body:
            # It came before HTTP/2 started, so it took no window: nothing to reopen.
            self._injected.append(
                _event(h2.events.DataReceived, stream_id=1, data=body, flow_controlled_length=0)
            )
        self._injected.append(_event(h2.events.StreamEnded, stream_id=1))

    def receive_data(self, data: Any) -> list[h2.events.Event]:
        injected, self._injected = self._injected, []
        events = injected + (super().receive_data(data) if data else [])
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                protocol = _protocol_of(event.headers or [])
                if protocol is not None:
                    assert event.stream_id is not None
                    self.protocols[event.stream_id] = protocol
        return events


def _event(cls: Any, **fields: Any) -> Any:
    """An h2 event made here (h2 4.2+ takes keywords; earlier releases set attributes)."""
    try:
        return cls(**fields)
    except TypeError:
        event = cls()
        for name, value in fields.items():
            setattr(event, name, value)
        return event


def _protocol_of(headers: Any) -> bytes | None:
    method = protocol = None
    for name, value in headers:
        if name == b":method":
            method = value
        elif name == b":protocol":
            protocol = value
        elif not name.startswith(b":"):
            break  # pseudo-headers come first (h2 has validated the block)
    return protocol if method == b"CONNECT" else None


def twisted_channel(reactor: Any, timeout: float | None) -> Any:
    """A Twisted HTTP/2 channel running on a fresh :class:`DaphneH2State`."""
    from twisted.web._http2 import H2Connection

    channel: Any = H2Connection(reactor)  # type: ignore[no-untyped-call]
    channel.conn = DaphneH2State()
    channel.timeOut = timeout
    return channel


__all__ = ["PREFACE", "DaphneH2State", "twisted_channel"]
