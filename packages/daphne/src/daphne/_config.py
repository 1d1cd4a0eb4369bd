"""Everything a connection needs to know about how the server was configured."""

from __future__ import annotations

from dataclasses import dataclass

from ._proxy import ProxyConfig


@dataclass
class ServerConfig:
    """Options shared by all protocols; defaults are the safe ones."""

    root_path: str = ""
    server_name: bytes | None = b"daphne"
    http_timeout: float | None = None
    application_close_timeout: float = 10.0
    request_header_timeout: float = 30.0
    keep_alive_timeout: float = 75.0
    max_request_line: int = 8190
    max_header_size: int = 65536
    max_headers: int = 100
    # RFC 9112 3.2's 400 for an HTTP/1.1 request without Host. Off by default: Daphne 4
    # served such requests, and clients written against it (upstream's own test client) rely
    # on that. Two Hosts, or an invalid Host value, are refused whatever this says.
    require_host: bool = False
    max_body_size: int | None = None
    proxy: ProxyConfig | None = None
    use_httptools: bool = True
    websocket_timeout: float | None = 86400.0
    websocket_connect_timeout: float = 20.0
    websocket_handshake_timeout: float = 5.0
    ping_interval: float = 20.0
    ping_timeout: float = 30.0
    websocket_max_message_size: int = 16 * 1024 * 1024
    websocket_max_frame_size: int = 16 * 1024 * 1024
    websocket_per_message_deflate: bool = False
    websocket_deflate_window_bits: int = 15
    ws_protocols: tuple[str, ...] | None = None
    shutdown_timeout: float = 10.0
    # Largest body per http.request message (upstream's request_buffer_size); None: no limit.
    request_buffer_size: int | None = 8192

    def __post_init__(self) -> None:
        for name in ("max_request_line", "max_header_size", "max_headers"):
            if getattr(self, name) <= 0:
                raise ValueError(f"expected a positive {name}, got {getattr(self, name)!r}")
        if self.request_buffer_size is not None and self.request_buffer_size <= 0:
            raise ValueError(
                f"expected a positive request_buffer_size, got {self.request_buffer_size!r}"
            )
        if not 9 <= self.websocket_deflate_window_bits <= 15:
            raise ValueError(
                "expected websocket_deflate_window_bits in 9..15, "
                f"got {self.websocket_deflate_window_bits!r}"
            )

    def server_prefix(self) -> bytes:
        return b"server: " + self.server_name + b"\r\n" if self.server_name else b""


__all__ = ["ServerConfig"]
