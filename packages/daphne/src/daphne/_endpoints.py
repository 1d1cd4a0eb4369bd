"""Turning endpoint description strings into listening endpoints.

Twisted parses ``tcp:``, ``ssl:``, ``unix:`` and plugin types; ``fd:fileno=N`` (an inherited
listening socket, e.g. from a process manager) is handled here, since Twisted has no string
parser for it. The address family is read from the socket itself unless ``domain`` is given.
"""

from __future__ import annotations

import socket
from typing import Any

from ._listeners import DEFAULT_BACKLOG

_DOMAINS = {"INET": socket.AF_INET, "INET6": socket.AF_INET6, "UNIX": socket.AF_UNIX}
_LISTENING_KINDS = ("tcp", "tcp6", "ssl", "unix")


def with_default_backlog(description: str) -> str:
    """*description* with ``backlog=DEFAULT_BACKLOG`` added when it is a ``tcp:``, ``tcp6:``,
    ``ssl:`` or ``unix:`` endpoint that names no backlog (others are returned unchanged)."""
    kind, _, rest = description.partition(":")
    if kind not in _LISTENING_KINDS:
        return description
    named = {part.partition("=")[0] for part in rest.split(":")}
    if "backlog" in named:
        return description
    return (
        f"{description}:backlog={DEFAULT_BACKLOG}" if rest else f"{kind}:backlog={DEFAULT_BACKLOG}"
    )


def _parse_fd(description: str) -> tuple[int, int | None]:
    options = dict(part.partition("=")[::2] for part in description.split(":")[1:])
    try:
        fileno = int(options["fileno"])
    except (KeyError, ValueError):
        raise ValueError(
            f"expected 'fd:fileno=<int>[:domain=INET|INET6|UNIX]', got {description!r}"
        ) from None
    domain = options.get("domain")
    if domain is not None and domain not in _DOMAINS:
        raise ValueError(f"expected domain INET, INET6 or UNIX in {description!r}, got {domain!r}")
    return fileno, _DOMAINS[domain] if domain else None


def fd_endpoint(reactor: Any, fileno: int | str, domain: int | str | None = None) -> Any:
    """An endpoint adopting the listening socket ``fileno`` (``domain``: INET, INET6, UNIX, a
    socket family number, or None to read the family from the socket)."""
    from twisted.internet.endpoints import AdoptedStreamServerEndpoint

    number = int(fileno)
    if isinstance(domain, str):
        if domain not in _DOMAINS:
            raise ValueError(f"expected domain INET, INET6 or UNIX, got {domain!r}")
        family: int = _DOMAINS[domain]
    elif domain is None:
        probe = socket.socket(fileno=number)
        family = probe.family
        probe.detach()  # The descriptor stays open; the endpoint adopts it.
    else:
        family = domain
    return AdoptedStreamServerEndpoint(reactor, number, family)  # type: ignore[no-untyped-call]


def endpoint_from_string(reactor: Any, description: str) -> Any:
    if description.startswith("fd:"):
        # Parsed here too (not only by the installed Twisted plugin), so it works even where
        # the plugin directory is not scanned.
        return fd_endpoint(reactor, *_parse_fd(description))
    from twisted.internet.endpoints import serverFromString

    if description.startswith("ssl:"):
        from ._tls import HalfCloseTLSReactor

        # The client's close_notify is a half-close, as a FIN is on plain TCP (see _tls).
        reactor = HalfCloseTLSReactor(reactor)
    description = with_default_backlog(description)
    return serverFromString(reactor, description)  # type: ignore[no-untyped-call]


__all__ = ["endpoint_from_string", "fd_endpoint", "with_default_backlog"]
