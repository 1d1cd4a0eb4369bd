"""Every server option, declared once: its default, flag, help and checks.

``ServerConfig`` is the one source. ``Server(application, endpoints, **options)`` maps its
keyword arguments onto these fields (``_serverargs.py``), the ``daphne`` command line and
runserver's flags are generated from them (``_cliargs.py``), and so is ``docs/daphne-cli.md``
(``python -m daphne._clidoc``). Connections read the resulting object; ``proxy`` is derived
from the ``proxy_*`` options and is not an option itself.

Where upstream's command line differs from upstream's ``Server`` (``--websocket_connect_timeout``
defaults to 5 there, 20 here; ``--proxy-headers-host`` needs ``--proxy-headers``), the
difference is declared on the field, so both stay exactly as upstream had them.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from ._gc import DEFAULT_GEN0_THRESHOLD
from ._lifespan import MODES
from ._options import (
    Option,
    complaint,
    header_value,
    names_or_none,
    names_or_text,
    non_negative,
    non_negative_or_none,
    option,
    option_of,
    positive,
    positive_or_none,
)
from ._proxy import DEFAULT_TRUSTED, ProxyConfig, parse_networks

#: The event loops ``--loop`` chooses from (``_reactor`` installs them).
LOOPS = ("auto", "asyncio", "uvloop")
_MIB = 1024 * 1024
# Headings in --help and in the CLI reference, in this order.
HTTP, WEBSOCKET, PROXY, PROCESS, LOGGING = (
    "HTTP", "WebSocket", "Proxy headers", "Server process", "Logging"
)  # fmt: skip


@dataclass
class ServerConfig:
    """Options shared by all protocols; defaults are the safe ones (and upstream's)."""

    # HTTP -------------------------------------------------------------------------------------
    http_timeout: float | None = option(
        None, "How long to wait for the application before answering 503 (default: forever)",
        HTTP, "-t", "--http-timeout", cli_type=int, upstream=True,
    )  # fmt: skip
    request_header_timeout: float = option(
        30.0, "Seconds a client gets to send a request head, once it has started one (408)",
        HTTP, "--request-header-timeout", cli_type=float,
    )  # fmt: skip
    keep_alive_timeout: float = option(
        75.0, "Seconds an idle keep-alive connection waits for its next request",
        HTTP, "--keep-alive-timeout", cli_type=float,
    )  # fmt: skip
    max_request_line: int = option(
        8190, "Longest request target accepted (414)",
        HTTP, "--max-request-line", cli_type=int, check=positive,
    )  # fmt: skip
    max_header_size: int = option(
        65536, "Largest request head accepted (431)",
        HTTP, "--max-header-size", cli_type=int, check=positive,
    )  # fmt: skip
    max_headers: int = option(
        100, "Most header fields accepted in one request (431)",
        HTTP, "--max-headers", cli_type=int, check=positive,
    )  # fmt: skip
    max_body_size: int | None = option(
        None, "Largest request body accepted (413)",
        HTTP, "--max-body-size", cli_type=int, check=non_negative_or_none,
    )  # fmt: skip
    # Largest body per http.request message (upstream's request_buffer_size); None: no limit.
    request_buffer_size: int | None = option(
        8192, "Largest piece of request body handed to the application in one message",
        HTTP, "--request-buffer-size", cli_type=int, check=positive_or_none,
    )  # fmt: skip
    # RFC 9112 3.2's 400 for an HTTP/1.1 request without Host. Off by default: Daphne 4
    # served such requests, and clients written against it (upstream's own test client) rely
    # on that. Two Hosts, or an invalid Host value, are refused whatever this says.
    require_host: bool = option(
        False, "Answer 400 to an HTTP/1.1 request without a Host header (RFC 9112 3.2). "
        "Off by default, as in Daphne 4; two Hosts or an invalid Host are always 400",
        HTTP, "--require-host",
    )  # fmt: skip
    use_httptools: bool = option(
        True, "Request parser: httptools (C, if installed) or the pure-Python one",
        HTTP, "--http-parser", cli_default="auto",
        cli_values={"auto": True, "httptools": True, "python": False},
    )  # fmt: skip
    # Prior knowledge is safe to have on: an HTTP/1.1 proxy never relays the preface. Upgrade
    # is not (a proxy that relays "Upgrade: h2c" and then tunnels lets clients past its rules).
    h2c: str = option(
        "prior-knowledge", "HTTP/2 over cleartext (needs the http2 extra): off, prior-knowledge "
        "(a connection that starts with the HTTP/2 preface), or upgrade (that and Upgrade: h2c)",
        HTTP, "--h2c", cli_type=str, choices=("off", "prior-knowledge", "upgrade"),
    )  # fmt: skip
    root_path: str = option(
        "", "The setting for the ASGI root_path", HTTP, "--root-path", cli_type=str, upstream=True
    )
    server_name: bytes | None = option(
        b"daphne", "Specify which value should be passed to response header Server attribute",
        HTTP, "-s", "--server-name", cli_type=str, convert=header_value, cli_default="daphne",
        upstream=True,
        off=("--no-server-name", "", "Disable the Server response header"),
    )  # fmt: skip
    # WebSocket --------------------------------------------------------------------------------
    websocket_timeout: float | None = option(
        86400.0, "Maximum time to allow a websocket to be connected. -1 for infinite.",
        WEBSOCKET, "--websocket_timeout", cli_type=int, cli_default=86400, upstream=True,
    )  # fmt: skip
    websocket_connect_timeout: float = option(
        20.0, "Maximum time to allow a connection to handshake. -1 for infinite",
        WEBSOCKET, "--websocket_connect_timeout", cli_type=int, cli_default=5, upstream=True,
    )  # fmt: skip
    websocket_handshake_timeout: float = option(
        5.0, "Accepted for compatibility with upstream Daphne (the request-head deadline and "
        "--websocket_connect_timeout bound the handshake); defaults to the "
        "--websocket_connect_timeout value, as upstream's command line passed it",
        WEBSOCKET, "--websocket-handshake-timeout", cli_type=int,
        follows="websocket_connect_timeout", upstream=True,
    )  # fmt: skip
    ping_interval: float = option(
        20.0, "Seconds a WebSocket must be idle before a keepalive ping",
        WEBSOCKET, "--ping-interval", cli_type=int, cli_default=20, upstream=True,
    )  # fmt: skip
    ping_timeout: float = option(
        30.0, "Seconds before a WebSocket is closed if no ping answer",
        WEBSOCKET, "--ping-timeout", cli_type=int, cli_default=30, upstream=True,
    )  # fmt: skip
    websocket_max_message_size: int = option(
        16 * _MIB, "Largest WebSocket message accepted (close 1009)",
        WEBSOCKET, "--websocket-max-message-size", cli_type=int, check=positive, upstream=True,
    )  # fmt: skip
    websocket_max_frame_size: int = option(
        16 * _MIB, "Largest WebSocket frame accepted",
        WEBSOCKET, "--websocket-max-frame-size", cli_type=int, check=positive, upstream=True,
    )  # fmt: skip
    websocket_per_message_deflate: bool = option(
        False, "Offer permessage-deflate compression", WEBSOCKET, "--websocket-per-message-deflate"
    )
    websocket_deflate_window_bits: int = option(
        15, "Window bits for permessage-deflate (9..15; smaller uses less memory)",
        WEBSOCKET, "--websocket-deflate-window-bits", cli_type=int, choices=tuple(range(9, 16)),
    )  # fmt: skip
    ws_protocols: tuple[str, ...] | None = option(
        None, "The WebSocket protocols you wish to support",
        WEBSOCKET, "--ws-protocol", cli_type=str, nargs="*", convert=names_or_none,
    )  # fmt: skip
    # Proxy headers (the switch --proxy-headers is the command line's own) ---------------------
    proxy_forwarded_address_header: str | None = option(
        None, "Header to read the client address from (default X-Forwarded-For)",
        PROXY, "--proxy-headers-host", cli_type=str, requires="proxy_headers",
        implied="X-Forwarded-For", upstream=True,
    )  # fmt: skip
    proxy_forwarded_port_header: str | None = option(
        None, "Header to read the client port from (default X-Forwarded-Port)",
        PROXY, "--proxy-headers-port", cli_type=str, requires="proxy_headers",
        implied="X-Forwarded-Port", upstream=True,
    )  # fmt: skip
    proxy_forwarded_proto_header: str | None = option(
        None, "Header to read the client's scheme from (default X-Forwarded-Proto)",
        PROXY, "--proxy-headers-proto", cli_type=str, requires="proxy_headers",
        implied="X-Forwarded-Proto", upstream=True,
    )  # fmt: skip
    proxy_trusted_ips: tuple[str, ...] | str | None = option(
        None, "Comma-separated CIDRs whose proxy headers are believed; '*' for any "
        "(default 127.0.0.1,::1)",
        PROXY, "--proxy-trusted-ips", cli_type=str, convert=names_or_text,
    )  # fmt: skip
    proxy_headers_forwarded: bool = option(
        False, "Also believe RFC 7239 Forwarded from trusted proxies; it wins over "
        "X-Forwarded-* (only if your proxy sets or overwrites Forwarded)",
        PROXY, "--proxy-headers-forwarded",
    )  # fmt: skip
    # Server process ---------------------------------------------------------------------------
    application_close_timeout: float = option(
        10.0, "Seconds an application gets to exit after its client disconnects",
        PROCESS, "--application-close-timeout", cli_type=int, cli_default=10, upstream=True,
    )  # fmt: skip
    shutdown_timeout: float = option(
        10.0, "Seconds in-flight requests get to finish on SIGTERM",
        PROCESS, "--shutdown-timeout", cli_type=float, cli_default=10,
    )  # fmt: skip
    lifespan: str = option(
        "auto", "Send ASGI lifespan events (auto: only if the application supports them)",
        PROCESS, "--lifespan", cli_type=str, choices=MODES,
    )  # fmt: skip
    loop: str = option(
        "auto", "Event loop under the Twisted reactor: uvloop (faster, if installed) or "
        "asyncio's own; auto picks uvloop when it is installed",
        PROCESS, "--loop", cli_type=str, choices=LOOPS,
    )  # fmt: skip
    gc_threshold: int = option(
        0, "Garbage collection while serving: once started, raise the first generation's "
        "threshold to this many allocations (unless the application set its own) and freeze "
        "the objects that exist, so that full collections are rare and short under many "
        "connections (README, Garbage collection); 0 leaves the collector as it is. The "
        "daphne command owns its process and defaults to 10000; Server() defaults to 0",
        PROCESS, "--gc-threshold", cli_type=int, check=non_negative,
        cli_default=DEFAULT_GEN0_THRESHOLD,
    )  # fmt: skip
    # Acted on by the daphne command (``_arbiter``), which starts this many processes; each
    # worker's Server sees the number too. ``Server(...)`` itself always runs one process.
    workers: int = option(
        1, "Worker processes sharing the listening sockets: SIGHUP replaces them one at a "
        "time, SIGTERM drains them all (tcp: and fd: endpoints; see README, Processes)",
        PROCESS, "--workers", cli_type=int, check=positive,
    )  # fmt: skip
    verbosity: int = option(
        1, "How verbose to make the output", LOGGING, "-v", "--verbosity", cli_type=int,
        upstream=True,
    )  # fmt: skip
    # Derived from the proxy_* options when they ask for it; not an option of its own.
    proxy: ProxyConfig | None = None

    def __post_init__(self) -> None:
        for field, spec in option_fields().items():
            _refuse_bad_value(field.name, spec, getattr(self, field.name))
        if self.proxy is None:
            self.proxy = self._proxy_config()

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ServerConfig:
        """Build from the forms Python callers pass (``server_name="edge"``, lists, ...)."""
        specs = {field.name: spec for field, spec in option_fields().items()}
        unknown = sorted(set(options) - set(specs))
        if unknown:
            raise TypeError(f"unexpected server option {unknown[0]!r}; known: {sorted(specs)}")
        values = {}
        for name, value in options.items():
            convert = specs[name].convert
            if convert is not None:
                try:
                    value = convert(value)
                except (TypeError, ValueError) as exc:
                    raise type(exc)(f"{name}: {exc}") from None
            values[name] = value
        return cls(**values)

    def server_prefix(self) -> bytes:
        return b"server: " + self.server_name + b"\r\n" if self.server_name else b""

    def _proxy_config(self) -> ProxyConfig | None:
        address = self.proxy_forwarded_address_header
        port = self.proxy_forwarded_port_header
        proto = self.proxy_forwarded_proto_header
        if not (address or port or proto or self.proxy_headers_forwarded):
            return None
        trusted = DEFAULT_TRUSTED if self.proxy_trusted_ips is None else self.proxy_trusted_ips
        return ProxyConfig(
            address_header=_lower(address),
            port_header=_lower(port),
            proto_header=_lower(proto),
            trusted=parse_networks(trusted),
            use_forwarded=self.proxy_headers_forwarded,
        )


@cache
def option_fields() -> dict[dataclasses.Field[Any], Option]:
    """Each option field with its declaration, in declaration order."""
    found = {}
    for field in dataclasses.fields(ServerConfig):
        spec = option_of(field)
        if spec is not None:
            found[field] = spec
    return found


@cache
def _accepted_types(name: str) -> tuple[type, ...] | None:
    """The runtime classes a field accepts (numbers for float, None where optional).

    None when any value will do: switches follow Python truthiness, as upstream's did.
    """
    hint = typing.get_type_hints(ServerConfig)[name]
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    accepted: list[type] = []
    for member in members:
        cls = typing.get_origin(member) or member
        if cls is bool:
            return None
        accepted += [int, float] if cls in (int, float) else [cls]
    return tuple(accepted)


def _refuse_bad_value(name: str, spec: Option, value: Any) -> None:
    accepted = _accepted_types(name)
    if accepted is not None and not isinstance(value, accepted):
        raise TypeError(f"expected {name} to be {_describe_types(accepted)}, got {value!r}")
    wanted = complaint(spec, value)
    if wanted is not None:
        raise ValueError(f"expected {name} to be {wanted}, got {value!r}")


def _describe_types(accepted: tuple[type, ...]) -> str:
    words = {int: "a number", float: "a number", type(None): "None"}
    named = dict.fromkeys(words.get(cls, f"a {cls.__name__}") for cls in accepted)
    return " or ".join(named)


def _lower(name: str | None) -> bytes | None:
    return name.lower().encode("latin-1") if name else None


__all__ = ["HTTP", "LOGGING", "PROCESS", "PROXY", "WEBSOCKET", "ServerConfig", "option_fields"]
