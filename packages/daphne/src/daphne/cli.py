"""The ``daphne`` command line (also ``python -m daphne``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__
from ._appload import import_by_path
from ._cliargs import add_option_arguments, server_options
from ._config import HTTP, LOGGING, PROCESS, PROXY, WEBSOCKET
from .access import AccessLogGenerator
from .endpoints import build_endpoint_description_strings
from .server import Server

__all__ = ["CommandLineInterface"]

logger = logging.getLogger("daphne.cli")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _parser() -> argparse.ArgumentParser:
    """The ``daphne`` parser: where to listen and how to log, then one flag per server option."""
    p = argparse.ArgumentParser(
        prog="daphne", description="Django HTTP/WebSocket server for ASGI applications"
    )
    listen = p.add_argument_group("Where to listen")
    add = listen.add_argument
    add("-p", "--port", type=int, help="Port number to listen on", default=None)
    add("-b", "--bind", dest="host", help="The host/address to bind to", default=None)
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
    groups = {title: p.add_argument_group(title) for title in (HTTP, WEBSOCKET, PROXY, PROCESS)}
    groups[LOGGING] = logging_group = p.add_argument_group(LOGGING)
    add_option_arguments(groups.__getitem__)
    add = logging_group.add_argument
    add("--access-log", default=None, help="Where to write the access log (- for stdout)")
    add("--log-fmt", default="%(asctime)-15s %(levelname)-8s %(message)s", help="Log format to use")
    p.add_argument("--version", action="version", version=f"daphne {__version__}")
    p.add_argument(
        "application", help="The application to dispatch to as path.to.module:instance.path"
    )
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
        # Set by ``daphne._worker`` in a worker process of ``--workers N``: the supervisor's
        # sockets replace the endpoints the arguments name, and readiness is reported.
        self.inherited_endpoints: list[str] | None = None
        self.on_ready: Callable[[], object] | None = None

    @classmethod
    def entrypoint(cls) -> None:
        """The ``daphne`` console script: run ``sys.argv[1:]`` on a new instance.

        A usage error found after parsing (an ``argparse.ArgumentError`` from ``run``) is
        printed with the usage line and exits with status 2, as argparse's own errors do.
        """
        cli = cls()
        try:
            cli.run(sys.argv[1:])
        except argparse.ArgumentError as exc:
            cli.parser.error(str(exc))

    def run(self, args: Sequence[str]) -> None:
        """Parse ``args`` (without the program name), build the server and run it.

        Raises ``argparse.ArgumentError`` for options that need another one
        (``--proxy-headers-host``/``-port``/``-proto`` without ``--proxy-headers``), as
        upstream does.
        """
        options = self.parser.parse_args(args)
        logging.basicConfig(
            level={0: logging.WARNING, 1: logging.INFO}.get(options.verbosity, logging.DEBUG),
            format=options.log_fmt,
        )
        self._check_optional_parts(options)
        endpoints = self._endpoints(options)
        if self.inherited_endpoints is not None:
            endpoints = self.inherited_endpoints
        elif options.workers > 1 and _runs_daphne_server(self.server_class):
            raise SystemExit(self._supervise(args, endpoints, options))
        access_log_stream = None
        if options.access_log == "-":
            access_log_stream = sys.stdout
        elif options.access_log:
            access_log_stream = open(options.access_log, "a", 1)  # noqa: SIM115 - lives with the process
        elif options.verbosity >= 1:
            access_log_stream = sys.stdout
        sys.path.insert(0, ".")
        application = self.load_asgi_app(options.application)
        from asgiref.compatibility import guarantee_single_callable

        kwargs = server_options(
            vars(options),
            self.parser,
            upstream_always=True,
            own_server=_runs_daphne_server(self.server_class),
        )
        if self.on_ready is not None:
            kwargs["ready_callable"] = self.on_ready
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

    def _supervise(self, args: Sequence[str], endpoints: list[str], options: Any) -> int:
        """``--workers N``: this process supervises N workers running ``daphne <args>``."""
        from ._arbiter import supervise

        cls = type(self)
        cli = "" if cls.__module__ == "__main__" else f"{cls.__module__}:{cls.__qualname__}"
        try:
            return supervise(args, endpoints, options, cli)
        except (ValueError, OSError) as exc:
            self.parser.error(str(exc))

    def _check_optional_parts(self, options: argparse.Namespace) -> None:
        from ._parser import httptools_available
        from ._reactor import uvloop_available

        if options.use_httptools == "httptools" and not httptools_available():
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

    def load_asgi_app(self, asgi_app_path: str) -> Any:
        """Import the application named ``module:attribute`` (subclasses may wrap it)."""
        try:
            return import_by_path(asgi_app_path)
        except ImportError as exc:
            self.parser.error(str(exc))


def _runs_daphne_server(server_class: Any) -> bool:
    """``--workers`` supervises daphne's own ``Server``; another ``server_class`` gets the
    option as a keyword like any other (upstream-style servers refuse it)."""
    return isinstance(server_class, type) and issubclass(server_class, Server)
