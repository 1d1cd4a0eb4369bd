"""The ``daphne`` command line (also ``python -m daphne``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from ._appload import import_by_path
from ._reactor import LOOPS
from .access import AccessLogGenerator
from .endpoints import build_endpoint_description_strings
from .server import Server

__all__ = ["CommandLineInterface"]

logger = logging.getLogger("daphne.cli")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="daphne", description="Django HTTP/WebSocket server for ASGI applications"
    )
    add = p.add_argument
    add("-p", "--port", type=int, help="Port number to listen on", default=None)
    add("-b", "--bind", dest="host", help="The host/address to bind to", default=None)
    add(
        "--websocket_timeout",
        type=int,
        default=86400,
        help="Maximum time to allow a websocket to be connected. -1 for infinite.",
    )
    add(
        "--websocket_connect_timeout",
        type=int,
        default=5,
        help="Maximum time to allow a connection to handshake. -1 for infinite",
    )
    add("-u", "--unix-socket", dest="unix_socket", default=None, help="Bind to a UNIX socket")
    add("--fd", type=int, dest="file_descriptor", default=None, help="Bind to a file descriptor")
    add(
        "-e",
        "--endpoint",
        dest="socket_strings",
        action="append",
        default=[],
        help="Use raw server strings passed directly to twisted",
    )
    add("-v", "--verbosity", type=int, default=1, help="How verbose to make the output")
    add(
        "-t",
        "--http-timeout",
        type=int,
        default=None,
        help="How long to wait for the application before answering 503 (default: forever)",
    )
    add("--access-log", default=None, help="Where to write the access log (- for stdout)")
    add("--log-fmt", default="%(asctime)-15s %(levelname)-8s %(message)s", help="Log format to use")
    add(
        "--ping-interval",
        type=int,
        default=20,
        help="Seconds a WebSocket must be idle before a keepalive ping",
    )
    add(
        "--ping-timeout",
        type=int,
        default=30,
        help="Seconds before a WebSocket is closed if no ping answer",
    )
    add(
        "--application-close-timeout",
        type=int,
        default=10,
        help="Seconds an application gets to exit after its client disconnects",
    )
    add("--root-path", dest="root_path", default="", help="The setting for the ASGI root_path")
    add(
        "--proxy-headers",
        action="store_true",
        default=False,
        help="Use X-Forwarded-For/-Port/-Proto from trusted proxies",
    )
    add(
        "--proxy-headers-host",
        dest="proxy_headers_host",
        default=None,
        help="Header to read the client address from (default X-Forwarded-For)",
    )
    add(
        "--proxy-headers-port",
        dest="proxy_headers_port",
        default=None,
        help="Header to read the client port from (default X-Forwarded-Port)",
    )
    add(
        "--proxy-trusted-ips",
        dest="proxy_trusted_ips",
        default=None,
        help="Comma-separated CIDRs whose proxy headers are believed; '*' for any "
        "(default 127.0.0.1,::1)",
    )
    add(
        "--proxy-headers-forwarded",
        dest="proxy_headers_forwarded",
        action="store_true",
        default=False,
        help="Also believe RFC 7239 Forwarded from trusted proxies; it wins over "
        "X-Forwarded-* (only if your proxy sets or overwrites Forwarded)",
    )
    add(
        "--require-host",
        dest="require_host",
        action="store_true",
        default=False,
        help="Answer 400 to an HTTP/1.1 request without a Host header (RFC 9112 3.2). "
        "Off by default, as in Daphne 4; two Hosts or an invalid Host are always 400",
    )
    add(
        "--ws-protocol",
        nargs="*",
        dest="ws_protocols",
        default=None,
        help="The WebSocket protocols you wish to support",
    )
    add(
        "-s",
        "--server-name",
        dest="server_name",
        default="daphne",
        help="Specify which value should be passed to response header Server attribute",
    )
    add(
        "--no-server-name",
        dest="server_name",
        action="store_const",
        const="",
        help="Disable the Server response header",
    )
    add(
        "--lifespan",
        choices=("auto", "on", "off"),
        default="auto",
        help="Send ASGI lifespan events (auto: only if the application supports them)",
    )
    add("--max-body-size", type=int, default=None, help="Largest request body accepted (413)")
    add("--max-header-size", type=int, default=65536, help="Largest request head accepted (431)")
    add(
        "--websocket-max-message-size",
        type=int,
        default=16 * 1024 * 1024,
        help="Largest WebSocket message accepted (close 1009)",
    )
    add(
        "--websocket-max-frame-size",
        type=int,
        default=16 * 1024 * 1024,
        help="Largest WebSocket frame accepted",
    )
    add(
        "--websocket-per-message-deflate",
        action="store_true",
        default=False,
        help="Offer permessage-deflate compression",
    )
    add(
        "--websocket-deflate-window-bits",
        type=int,
        default=15,
        choices=range(9, 16),
        help="Window bits for permessage-deflate (9..15; smaller uses less memory)",
    )
    add(
        "--shutdown-timeout",
        type=float,
        default=10,
        help="Seconds in-flight requests get to finish on SIGTERM",
    )
    add(
        "--http-parser",
        choices=("auto", "httptools", "python"),
        default="auto",
        help="Request parser: httptools (C, if installed) or the pure-Python one",
    )
    add(
        "--loop",
        choices=LOOPS,
        default="auto",
        help="Event loop under the Twisted reactor: uvloop (faster, if installed) or asyncio's "
        "own; auto picks uvloop when it is installed",
    )
    add("--version", action="version", version=f"daphne {__version__}")
    add("application", help="The application to dispatch to as path.to.module:instance.path")
    return p


class CommandLineInterface:
    """Parses arguments and runs ``server_class`` (:class:`daphne.server.Server`).

    The server gets upstream Daphne's keyword arguments; options only this daphne has are
    added when they differ from their defaults, so a ``server_class`` written for upstream's
    ``Server`` signature keeps working until one of them is used.
    """

    description = "Django HTTP/WebSocket server"
    server_class: Any = Server

    def __init__(self) -> None:
        self.parser = _parser()
        self.server: Any = None

    @classmethod
    def entrypoint(cls) -> None:
        cli = cls()
        try:
            cli.run(sys.argv[1:])
        except argparse.ArgumentError as exc:
            cli.parser.error(str(exc))

    def run(self, args: Sequence[str]) -> None:
        """Parse ``args`` (without the program name), build the server and run it.

        Raises ``argparse.ArgumentError`` for options that need another one
        (``--proxy-headers-host``/``-port`` without ``--proxy-headers``), as upstream does.
        """
        options = self.parser.parse_args(args)
        logging.basicConfig(
            level={0: logging.WARNING, 1: logging.INFO}.get(options.verbosity, logging.DEBUG),
            format=options.log_fmt,
        )
        access_log_stream = None
        if options.access_log == "-":
            access_log_stream = sys.stdout
        elif options.access_log:
            access_log_stream = open(options.access_log, "a", 1)  # noqa: SIM115 - lives with the process
        elif options.verbosity >= 1:
            access_log_stream = sys.stdout
        self._check_optional_parts(options)
        endpoints = self._endpoints(options)
        sys.path.insert(0, ".")
        application = self.load_asgi_app(options.application)
        from asgiref.compatibility import guarantee_single_callable

        kwargs = self._upstream_kwargs(options)
        kwargs.update(self._extra_kwargs(options))
        logger.info("Starting server at %s", ", ".join(endpoints))
        self.server = self.server_class(
            application=guarantee_single_callable(application),
            endpoints=endpoints,
            action_logger=AccessLogGenerator(access_log_stream) if access_log_stream else None,
            **kwargs,
        )
        self.server.run()
        if getattr(self.server, "abort_start", False) or (
            getattr(self.server, "startup_error", None) is not None
        ):
            raise SystemExit(1)

    def _upstream_kwargs(self, options: argparse.Namespace) -> dict[str, Any]:
        return {
            "http_timeout": options.http_timeout,
            "ping_interval": options.ping_interval,
            "ping_timeout": options.ping_timeout,
            "websocket_timeout": options.websocket_timeout,
            "websocket_connect_timeout": options.websocket_connect_timeout,
            "websocket_handshake_timeout": options.websocket_connect_timeout,
            "websocket_max_message_size": options.websocket_max_message_size,
            "websocket_max_frame_size": options.websocket_max_frame_size,
            "application_close_timeout": options.application_close_timeout,
            "root_path": options.root_path,
            "verbosity": options.verbosity,
            "proxy_forwarded_address_header": self._proxy_header(options, "host"),
            "proxy_forwarded_port_header": self._proxy_header(options, "port"),
            "proxy_forwarded_proto_header": "X-Forwarded-Proto" if options.proxy_headers else None,
            # "" (from --no-server-name or --server-name '') sends no Server header.
            "server_name": options.server_name,
        }

    def _extra_kwargs(self, options: argparse.Namespace) -> dict[str, Any]:
        """This daphne's own options, only where the command line changed them."""
        extra: dict[str, Any] = {}
        for dest in _EXTRA_OPTIONS:
            value = getattr(options, dest)
            if value != self.parser.get_default(dest):
                extra[dest] = value
        parser_choice = extra.pop("http_parser", None)
        if parser_choice is not None:
            extra["use_httptools"] = parser_choice != "python"
        return extra

    def _check_optional_parts(self, options: argparse.Namespace) -> None:
        from ._parser import httptools_available
        from ._reactor import uvloop_available

        if options.http_parser == "httptools" and not httptools_available():
            self.parser.error("--http-parser httptools requires 'pip install httptools'")
        if options.loop == "uvloop" and not uvloop_available():
            self.parser.error("--loop uvloop requires 'pip install uvloop'")

    def _endpoints(self, options: argparse.Namespace) -> list[str]:
        if not any(
            [
                options.host,
                options.port is not None,
                options.unix_socket,
                options.file_descriptor is not None,
                options.socket_strings,
            ]
        ):
            options.host, options.port = DEFAULT_HOST, DEFAULT_PORT
        elif options.host and options.port is None:
            options.port = DEFAULT_PORT
        elif options.port is not None and not options.host:
            options.host = DEFAULT_HOST
        return build_endpoint_description_strings(
            host=options.host,
            port=options.port,
            unix_socket=options.unix_socket,
            file_descriptor=options.file_descriptor,
        ) + list(options.socket_strings)

    def _proxy_header(self, options: argparse.Namespace, part: str) -> str | None:
        """The header named by ``--proxy-headers-<part>``, or the X-Forwarded default."""
        explicit = getattr(options, f"proxy_headers_{part}")
        if explicit and not options.proxy_headers:
            flag = f"--proxy-headers-{part}"
            action = next(a for a in self.parser._actions if flag in a.option_strings)
            raise argparse.ArgumentError(
                action, "--proxy-headers has to be passed for this parameter."
            )
        if not options.proxy_headers:
            return None
        return str(explicit or _PROXY_DEFAULTS[part])

    def load_asgi_app(self, asgi_app_path: str) -> Any:
        """Import the application named ``module:attribute`` (subclasses may wrap it)."""
        try:
            return import_by_path(asgi_app_path)
        except ImportError as exc:
            self.parser.error(str(exc))


_PROXY_DEFAULTS = {"host": "X-Forwarded-For", "port": "X-Forwarded-Port"}
# Options upstream's CLI does not have; handed to the server only when set.
_EXTRA_OPTIONS = (
    "proxy_trusted_ips",
    "proxy_headers_forwarded",
    "require_host",
    "ws_protocols",
    "lifespan",
    "max_body_size",
    "max_header_size",
    "websocket_per_message_deflate",
    "websocket_deflate_window_bits",
    "shutdown_timeout",
    "http_parser",
    "loop",
)
