"""The session object behind every check: options, claims, and servers started on demand.

A server is started the first time a check needs that (command, application) pair
and reused by later checks; a server that died is started again, so one crash fails
the check that caused it and not every check after it. A command that cannot start a
server at all is tried once; later checks fail at once with the same message.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ._process import ServerProcess, free_port, render
from ._wire import Connection, Target, request
from .app import APP

#: claim -> what claiming it promises. Checks needing an unclaimed feature are skipped
#: with a reason naming the claim (reported as "not supported" in the results matrix).
CLAIMS: dict[str, str] = {
    "tls": "the command serves TLS with {certfile}/{keyfile}; every check connects over TLS",
    "http2": "HTTP/2 over TLS, negotiated with ALPN h2 (needs tls)",
    "websocket": "WebSocket (RFC 6455) and the ASGI websocket scope",
    "deflate": "permessage-deflate (RFC 7692) when the client offers it",
    "websocket_denial": "the websocket.http.response extension (custom handshake denial)",
    "lifespan": "ASGI lifespan events and scope['state']",
    "trailers": "the http.response.trailers extension",
    "pathsend": "the http.response.pathsend extension",
    "zerocopy": "the http.response.zerocopy extension",
    "forwarded": "RFC 7239 Forwarded is believed from trusted proxies (explicitly enabled)",
}

#: the server commands a check may ask for: option name -> what the command must do.
COMMANDS: dict[str, str] = {
    "main": "the server with default settings (no proxy headers)",
    "proxy": "proxy headers on, 127.0.0.1 trusted",
    "untrusted_proxy": "proxy headers on, 127.0.0.1 NOT trusted",
}


@dataclass
class KitOptions:
    commands: dict[str, str]
    claims: frozenset[str] = frozenset()
    max_body: int | None = None
    head_timeout: float = 35.0
    ws_max_message: int = 16 * 1024 * 1024
    name: str = "server"

    def __post_init__(self) -> None:
        unknown = sorted(self.claims - set(CLAIMS))
        if unknown:
            raise ValueError(f"unknown claims {unknown}: expected some of {sorted(CLAIMS)}")


@dataclass
class Kit:
    options: KitOptions
    workdir: Path
    servers: dict[tuple[str, str], ServerProcess] = field(default_factory=dict)
    broken: dict[tuple[str, str], str] = field(default_factory=dict)
    _keys: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def tls(self) -> bool:
        return "tls" in self.options.claims

    def claims(self, claim: str) -> bool:
        if claim not in CLAIMS:
            raise ValueError(f"unknown claim {claim!r}: expected one of {sorted(CLAIMS)}")
        return claim in self.options.claims

    def require(self, claim: str) -> None:
        if not self.claims(claim):
            pytest.skip(f"not supported: the server does not claim {claim!r} ({CLAIMS[claim]})")

    def key(self) -> str:
        return f"k{next(self._keys)}-{time.monotonic_ns()}"

    def server(self, kind: str = "main", app: str = APP) -> ServerProcess:
        template = self.options.commands.get(kind)
        if not template:
            pytest.skip(
                f"not supported: no --server-{kind.replace('_', '-')}-cmd ({COMMANDS[kind]})"
            )
        running = self.servers.get((kind, app))
        if running is not None and running.alive():
            return running
        if (kind, app) in self.broken:  # one slow failure to start, not one per check
            raise AssertionError(self.broken[(kind, app)])
        server = self.start(template, app)
        try:
            ready = server.wait_ready()
        except AssertionError as exc:
            server.stop()
            self.broken[(kind, app)] = str(exc)
            raise
        if not ready:
            self.broken[(kind, app)] = (
                f"the server exited before listening (code {server.stop()}): "
                f"{' '.join(server.argv)}\n{server.log_tail()}"
            )
            raise AssertionError(self.broken[(kind, app)])
        self.servers[(kind, app)] = server
        return server

    def start(self, template: str, app: str) -> ServerProcess:
        """A new server process (not cached: the caller stops it)."""
        port = free_port()
        name = f"server-{len(list(self.workdir.glob('server-*')))}"
        workdir = self.workdir / name
        workdir.mkdir(parents=True, exist_ok=True)
        server = ServerProcess(
            render(template, port, app), Target(port, self.tls), workdir, workdir / "log.txt"
        )
        server.start()
        return server

    def connect(
        self, kind: str = "main", app: str = APP, timeout: float = 10.0, half_close: bool = False
    ) -> Connection:
        return Connection.open(self.server(kind, app).target, timeout, half_close)

    def events(self, key: str, timeout: float = 10.0, until: int = 1) -> list[str]:
        """What the app recorded under ``key``, waiting until ``until`` events arrived."""
        deadline = time.monotonic() + timeout
        while True:
            with self.connect() as conn:
                conn.send(request("GET", f"/events?key={key}"))
                response = conn.read_response()
            found = json.loads(response.body) if response and response.status == 200 else []
            if len(found) >= until or time.monotonic() > deadline:
                return [str(event) for event in found]
            time.sleep(0.05)

    def scope(
        self, path: str = "/scope", *headers: tuple[str, str], kind: str = "main"
    ) -> dict[str, Any]:
        with self.connect(kind) as conn:
            conn.send(request("GET", path, *headers))
            response = conn.read_response()
        assert response is not None and response.status == 200, (
            f"expected 200 from GET {path}, got {response and response.status}"
        )
        data: dict[str, Any] = json.loads(response.body)
        return data

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()


__all__ = ["CLAIMS", "COMMANDS", "Kit", "KitOptions"]
