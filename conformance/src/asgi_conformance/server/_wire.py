"""The client side of HTTP/1.1 over a real socket: raw bytes out, a tolerant reader in.

The reader never trusts the server: it reads what arrives, parses only as much as a
check needs, and reports a connection closed early as ``None`` or ``complete=False``
instead of raising, because a broken server is exactly what the checks look for.
Every wait is bounded by the connection's timeout.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Target:
    """Where a started server listens."""

    port: int
    tls: bool = False
    host: str = HOST


@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    trailers: list[tuple[str, str]] = field(default_factory=list)
    complete: bool = True
    chunked: bool = False
    interim: list[int] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The first value of a header (names compared case-insensitively)."""
        for key, value in self.headers:
            if key == name.lower():
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]


def client_tls_context(alpn: list[str] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(alpn or ["http/1.1"])
    return context


class Connection:
    """One client socket with a receive buffer; all bytes received are kept in ``seen``."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.timeout = timeout
        self.buffer = bytearray()
        self.seen = bytearray()
        self.eof = False
        self.reset = False

    @classmethod
    def open(cls, target: Target, timeout: float = 10.0, half_close: bool = False) -> Connection:
        """``half_close``: over TLS, a client whose ``shutdown_write`` sends close_notify
        before the FIN (see ``_tlsbio``); plain TCP needs nothing more for that."""
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if target.tls and half_close:
            from ._tlsbio import MemoryBioTLSSocket

            bio = MemoryBioTLSSocket(sock, client_tls_context(), server_hostname=target.host)
            return cls(bio, timeout)  # type: ignore[arg-type]
        if target.tls:
            sock = client_tls_context().wrap_socket(sock, server_hostname=target.host)
        return cls(sock, timeout)

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> bool:
        """Send everything; False when the server already closed or reset the socket."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            return False
        except OSError:
            return False
        return True

    def shutdown_write(self) -> None:
        """Half-close: the server sees end-of-input but can still write to us (over TLS only
        on a ``half_close`` connection; otherwise a bare FIN, a truncation)."""
        self.sock.shutdown(socket.SHUT_WR)

    def _fill(self, deadline: float) -> bool:
        """Read once more into the buffer; False on EOF/reset or when the deadline passed."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            self.eof = self.reset = True
            return False
        if not data:
            self.eof = True
            return False
        self.buffer += data
        self.seen += data
        return True

    def read_until(self, marker: bytes, timeout: float | None = None) -> bytes | None:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while (index := self.buffer.find(marker)) < 0:
            if not self._fill(deadline):
                return None
        end = index + len(marker)
        data = bytes(self.buffer[:end])
        del self.buffer[:end]
        return data

    def read_exact(self, size: int, timeout: float | None = None) -> bytes | None:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(self.buffer) < size:
            if not self._fill(deadline):
                return None
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read_to_eof(self, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while self._fill(deadline):
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def closed_by_server(self, timeout: float | None = None) -> bool:
        """Wait for end-of-input (discarding data); True if the server closed in time."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while self._fill(deadline):
            self.buffer.clear()
        self.buffer.clear()
        return self.eof

    def read_response(self, method: str = "GET", timeout: float | None = None) -> Response | None:
        """The next final response (1xx interim statuses are collected), or None if closed."""
        interim: list[int] = []
        while True:
            head = self.read_until(b"\r\n\r\n", timeout)
            if head is None:
                return None
            response = _parse_head(head)
            if 100 <= response.status < 200 and response.status != 101:
                interim.append(response.status)
                continue
            response.interim = interim
            self._read_body(response, method, timeout)
            return response

    def _read_body(self, response: Response, method: str, timeout: float | None) -> None:
        if method == "HEAD" or response.status in (101, 204, 304):
            return
        encoding = (response.header("transfer-encoding") or "").lower()
        if encoding.endswith("chunked"):
            response.chunked = True
            self._read_chunked(response, timeout)
        elif (length := response.header("content-length")) is not None and length.isdigit():
            body = self.read_exact(int(length), timeout)
            response.complete = body is not None
            response.body = body if body is not None else bytes(self.buffer)
        else:
            response.body = self.read_to_eof(timeout)
            response.complete = self.eof

    def _read_chunked(self, response: Response, timeout: float | None) -> None:
        body = bytearray()
        while True:
            line = self.read_until(b"\r\n", timeout)
            size_text = (line or b"").split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                response.complete = False
                break
            if size == 0:
                trailer = self.read_until(b"\r\n", timeout)
                while trailer not in (None, b"\r\n"):
                    name, _, value = trailer.decode("latin-1").partition(":")
                    response.trailers.append((name.strip().lower(), value.strip()))
                    trailer = self.read_until(b"\r\n", timeout)
                response.complete = trailer is not None
                break
            chunk = self.read_exact(size + 2, timeout)
            if chunk is None:
                response.complete = False
                break
            body += chunk[:-2]
        response.body = bytes(body)


def _parse_head(head: bytes) -> Response:
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    status_text, _, reason = rest.partition(" ")
    if not status_text.isdigit():
        raise AssertionError(f"expected an HTTP status line, got {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
    return Response(version, int(status_text), reason, headers)


def request(
    method: str,
    path: str,
    *headers: tuple[str, str],
    body: bytes = b"",
    version: str = "HTTP/1.1",
    host: str | None = "kit.test",
) -> bytes:
    """A well-formed request; Content-Length is added when there is a body."""
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{name}: {value}" for name, value in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


__all__ = [
    "HOST",
    "Connection",
    "Response",
    "Target",
    "client_tls_context",
    "request",
]
