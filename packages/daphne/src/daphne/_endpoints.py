"""Turning endpoint description strings into listening endpoints.

Twisted parses ``tcp:``, ``ssl:``, ``unix:`` and plugin types; ``fd:fileno=N`` (an inherited
listening socket, e.g. from a process manager) is handled here, since Twisted has no string
parser for it. The address family is read from the socket itself unless ``domain`` is given.
"""

from __future__ import annotations

import socket
from typing import Any

_DOMAINS = {"INET": socket.AF_INET, "INET6": socket.AF_INET6, "UNIX": socket.AF_UNIX}


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


def endpoint_from_string(reactor: Any, description: str) -> Any:
    if description.startswith("fd:"):
        from twisted.internet.endpoints import AdoptedStreamServerEndpoint

        fileno, family = _parse_fd(description)
        if family is None:
            probe = socket.socket(fileno=fileno)
            family = probe.family
            probe.detach()  # The descriptor stays open; the endpoint adopts it.
        return AdoptedStreamServerEndpoint(reactor, fileno, family)  # type: ignore[no-untyped-call]
    from twisted.internet.endpoints import serverFromString

    return serverFromString(reactor, description)  # type: ignore[no-untyped-call]


__all__ = ["endpoint_from_string"]
