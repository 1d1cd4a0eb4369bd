"""A small RFC 8441 client: a WebSocket over one HTTP/2 stream, on the ``h2`` library.

No packaged Python client speaks WebSockets over HTTP/2, so the tests carry this one. It
runs on a blocking socket (plain for h2c, or TLS with ALPN ``h2``), refuses to send the
extended CONNECT unless the server advertised ``SETTINGS_ENABLE_CONNECT_PROTOCOL``, and
frames messages as RFC 6455 says a client must (masked).
"""

from __future__ import annotations

import os
import socket
import ssl
import struct

import h2.config
import h2.connection
import h2.events
import h2.settings

OPCODES = {"text": 0x1, "binary": 0x2, "close": 0x8, "ping": 0x9, "pong": 0xA}
NAMES = {value: name for name, value in OPCODES.items()}


class StreamClosed(Exception):
    """The server ended or reset the stream (``args[0]``: the h2 event)."""


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame (RFC 6455 5.2)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0xFE, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0xFF, size)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return head + mask + masked


def decode_frame(buffer: bytearray) -> tuple[str, bytes] | None:
    """Take one whole server frame (unmasked, unfragmented) off ``buffer``, if there is one."""
    if len(buffer) < 2:
        return None
    opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
    assert buffer[1] & 0x80 == 0, "expected an unmasked frame from the server"
    assert buffer[0] & 0x80, "expected unfragmented frames in these tests"
    start = 2
    if length == 126:
        if len(buffer) < 4:
            return None
        (length,) = struct.unpack("!H", buffer[2:4])
        start = 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        (length,) = struct.unpack("!Q", buffer[2:10])
        start = 10
    if len(buffer) < start + length:
        return None
    payload = bytes(buffer[start : start + length])
    del buffer[: start + length]
    return NAMES[opcode], payload


class H2WebSocketClient:
    """Open with :meth:`connect`; then ``send``/``recv`` messages and :meth:`close`."""

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext | None = None) -> None:
        raw = socket.create_connection(address, timeout=10)
        if context is not None:
            context.set_alpn_protocols(["h2"])
            raw = context.wrap_socket(raw, server_hostname=address[0])
            assert raw.selected_alpn_protocol() == "h2"
        self.sock = raw
        self.scheme = "https" if context is not None else "http"
        self.authority = f"{address[0]}:{address[1]}"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.stream_id = 0
        self.status = 0
        self.headers: dict[str, str] = {}
        self.buffer = bytearray()
        self.ended = False

    def connect(
        self, path: str, subprotocols: list[str] = (), protocol: str = "websocket", **headers: str
    ) -> int:
        """Send the extended CONNECT; return the response status (200 when opened)."""
        self.conn.initiate_connection()
        self._flush()
        # The server's first SETTINGS decides: without the setting there is no RFC 8441.
        while not self._pump_settings():
            pass
        if self.conn.remote_settings.enable_connect_protocol != 1:
            raise AssertionError("the server did not advertise ENABLE_CONNECT_PROTOCOL")
        self.stream_id = self.conn.get_next_available_stream_id()
        request = [
            (":method", "CONNECT"),
            (":protocol", protocol),
            (":scheme", self.scheme),
            (":path", path),
            (":authority", self.authority),
            ("sec-websocket-version", headers.pop("version", "13")),
        ]
        if subprotocols:
            request.append(("sec-websocket-protocol", ", ".join(subprotocols)))
        request += [(name.replace("_", "-"), value) for name, value in headers.items()]
        self.conn.send_headers(self.stream_id, request)
        self._flush()
        while not self.status:
            self._pump()
        return self.status

    def send(self, message: str | bytes) -> None:
        if isinstance(message, str):
            self.send_frame("text", message.encode())
        else:
            self.send_frame("binary", message)

    def send_frame(self, kind: str, payload: bytes) -> None:
        data = memoryview(encode_frame(OPCODES[kind], payload))
        while data:
            # HTTP/2 flow control: wait for WINDOW_UPDATEs when the window is used up.
            room = min(
                self.conn.local_flow_control_window(self.stream_id),
                self.conn.max_outbound_frame_size,
            )
            if room <= 0:
                self._pump()
                continue
            self.conn.send_data(self.stream_id, bytes(data[:room]))
            self._flush()
            data = data[room:]

    def recv_frame(self) -> tuple[str, bytes]:
        while True:
            frame = decode_frame(self.buffer)
            if frame is not None:
                return frame
            if self.ended:
                raise StreamClosed("the stream ended")
            self._pump()

    def recv(self) -> str | bytes:
        """The next text or binary message (pings are answered on the way)."""
        while True:
            kind, payload = self.recv_frame()
            if kind == "ping":
                self.send_frame("pong", payload)
            elif kind == "text":
                return payload.decode()
            elif kind == "binary":
                return payload
            else:
                raise AssertionError(f"expected a message, got a {kind} frame {payload!r}")

    def close(self, code: int = 1000, reason: str = "") -> tuple[int, str]:
        """Send a close frame; return the code and reason of the server's close frame."""
        self.send_frame("close", struct.pack("!H", code) + reason.encode())
        return self.wait_close()

    def wait_close(self) -> tuple[int, str]:
        while True:
            kind, payload = self.recv_frame()
            if kind == "close":
                code = struct.unpack("!H", payload[:2])[0] if payload else 1005
                return code, payload[2:].decode()

    def wait_stream_end(self) -> None:
        while not self.ended:
            self._pump()

    def shutdown(self) -> None:
        self.sock.close()

    # HTTP/2 ------------------------------------------------------------------------------------

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def _pump_settings(self) -> bool:
        """Read once; return whether the server's SETTINGS arrived."""
        events = self._pump()
        return any(isinstance(event, h2.events.RemoteSettingsChanged) for event in events)

    def _pump(self) -> list[h2.events.Event]:
        data = self.sock.recv(65536)
        if not data:
            raise StreamClosed("the server closed the connection")
        events = self.conn.receive_data(data)
        for event in events:
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == self.stream_id:
                self.headers = {n.decode(): v.decode() for n, v in event.headers}
                self.status = int(self.headers[":status"])
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == self.stream_id:
                self.buffer += event.data
                self.conn.acknowledge_received_data(event.flow_controlled_length, self.stream_id)
            elif (
                isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset))
                and event.stream_id == self.stream_id
            ):
                self.ended = True
                if not self.status:
                    self.status = -1  # reset before any response
        self._flush()
        return events


__all__ = ["H2WebSocketClient", "StreamClosed", "decode_frame", "encode_frame"]
