"""Turning host/port/socket/fd options into Twisted endpoint description strings."""

from __future__ import annotations

__all__ = ["build_endpoint_description_strings"]


def build_endpoint_description_strings(
    host: str | None = None,
    port: int | None = None,
    unix_socket: str | None = None,
    file_descriptor: int | None = None,
) -> list[str]:
    """Return endpoint strings such as ``tcp:port=8000:interface=127.0.0.1``.

    IPv6 hosts may be given with or without brackets; colons are escaped for Twisted.
    """
    endpoints = []
    if host is not None and port is not None:
        interface = host.strip("[]").replace(":", r"\:")
        endpoints.append(f"tcp:port={int(port)}:interface={interface}")
    elif host is not None or port is not None:
        raise ValueError(
            f"expected both host and port for a TCP endpoint, got host={host!r} port={port!r}"
        )
    if unix_socket is not None:
        endpoints.append(f"unix:{unix_socket}")
    if file_descriptor is not None:
        endpoints.append(f"fd:fileno={int(file_descriptor)}")
    return endpoints
