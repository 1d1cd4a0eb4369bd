"""The listening sockets ``daphne --workers N`` opens once and hands to every worker process.

The supervising process binds each ``tcp:``/``tcp6:`` endpoint itself (or keeps an inherited
``fd:`` socket) and never accepts on it; each worker adopts the same socket as
``fd:fileno=N:domain=...``. The socket therefore stays open through a rolling restart: a
connection waiting in its queue is accepted by whichever worker is still listening, and no
``SO_REUSEPORT`` hashing can route it to a worker that is stopping.

The rule for what works with ``--workers``: endpoints whose socket can be shared by several
processes and outlive any one of them. ``ssl:`` cannot (TLS is set up by Twisted's own
endpoint, which binds its own socket), and neither can Unix sockets (``unix:``, or an ``fd:``
holding one): Twisted removes a Unix socket's path when the process that adopted it stops
listening, so the first worker retired would take the path away from the others.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

#: The listen backlog of ``tcp:``, ``ssl:`` and ``unix:`` endpoints that name none, for one
#: daphne and for ``--workers`` alike (the kernel caps it at net.core.somaxconn). Twisted's
#: own default, 50, drops connection attempts in a burst (a page opening many WebSockets at
#: once, clients reconnecting after a deploy), and each dropped SYN costs its client a
#: one-second retransmission.
DEFAULT_BACKLOG = 2048
_FAMILIES: dict[int, str] = {
    socket.AF_INET: "INET",
    socket.AF_INET6: "INET6",
    socket.AF_UNIX: "UNIX",
}
_RULE = "--workers shares tcp:, tcp6: and fd: (TCP) endpoints among its worker processes"


@dataclass
class Listener:
    """One listening socket; ``sock`` is None for an ``fd:`` inherited from our own parent."""

    description: str
    fileno: int
    family: int
    sock: socket.socket | None = None

    def child_endpoint(self) -> str:
        return f"fd:fileno={self.fileno}:domain={_FAMILIES[self.family]}"

    def address(self) -> str:
        sock = self.sock or socket.socket(fileno=self.fileno)
        try:
            name = sock.getsockname()
        finally:
            if self.sock is None:
                sock.detach()
        return f"{name[0]}:{name[1]}" if isinstance(name, tuple) else str(name)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


def split_description(description: str) -> tuple[str, list[str], dict[str, str]]:
    """``"tcp:8000:interface=\\:\\:1"`` -> ``("tcp", ["8000"], {"interface": "::1"})``."""
    parts = [p.replace("\\:", ":") for p in re.split(r"(?<!\\):", description)]
    kind, positional, named = parts[0], [], {}
    for part in parts[1:]:
        key, equals, value = part.partition("=")
        if equals:
            named[key] = value
        else:
            positional.append(part)
    return kind, positional, named


def open_listeners(descriptions: list[str]) -> list[Listener]:
    """Bind (or adopt) every endpoint; ValueError names one that ``--workers`` cannot share."""
    listeners: list[Listener] = []
    try:
        for description in descriptions:
            listeners.append(_open(description))
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners


def _open(description: str) -> Listener:
    kind, positional, named = split_description(description)
    if kind in ("tcp", "tcp6"):
        return _bind_tcp(description, kind, positional, named)
    if kind == "fd":
        return _inherited(description, named)
    why = {
        "ssl": "TLS endpoints bind their own socket in each process",
        "unix": "Twisted removes a Unix socket's path when one worker stops listening",
    }.get(kind, "it is not a socket daphne can bind once and share")
    raise ValueError(f"{_RULE}; got {description!r}: {why}")


def _bind_tcp(
    description: str, kind: str, positional: list[str], named: dict[str, str]
) -> Listener:
    unknown = sorted(set(named) - {"port", "interface", "backlog"})
    if unknown or len(positional) > 1:
        raise ValueError(
            f"{_RULE}; expected '{kind}:port=N[:interface=HOST][:backlog=N]', got {description!r}"
        )
    try:
        port = int(named.get("port", positional[0] if positional else ""))
        backlog = int(named.get("backlog", DEFAULT_BACKLOG))
    except ValueError:
        raise ValueError(f"expected a numeric port and backlog in {description!r}") from None
    host = named.get("interface", "::" if kind == "tcp6" else "")
    family = socket.AF_INET6 if kind == "tcp6" or ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        # Twisted requires an adopted socket to be non-blocking already.
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return Listener(description, sock.fileno(), family, sock)


def _inherited(description: str, named: dict[str, str]) -> Listener:
    try:
        fileno = int(named["fileno"])
    except (KeyError, ValueError):
        raise ValueError(f"expected 'fd:fileno=<int>', got {description!r}") from None
    try:
        probe = socket.socket(fileno=fileno)
    except OSError as exc:
        raise ValueError(f"expected fd {fileno} to be an open socket, got {exc}") from None
    family = probe.family
    probe.detach()
    if family not in (socket.AF_INET, socket.AF_INET6):
        raise ValueError(
            f"{_RULE}; got {description!r} ({_FAMILIES.get(family, family)} socket): Twisted "
            "removes a Unix socket's path when one worker stops listening"
        )
    return Listener(description, fileno, family)


__all__ = ["DEFAULT_BACKLOG", "Listener", "open_listeners", "split_description"]
