"""``manage.py runserver`` served by daphne: ASGI, WebSockets, static files in DEBUG, autoreload."""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError
from django.core.management.commands.runserver import Command as RunserverCommand
from django.utils.module_loading import import_string

from daphne import __version__
from daphne._cliargs import add_option_arguments, server_options
from daphne.endpoints import build_endpoint_description_strings

__all__ = ["Command", "get_default_application"]

# Upstream runserver's spellings of two options, kept beside daphne's own.
_UPSTREAM_SPELLINGS = {
    "http_timeout": ("--http_timeout",),
    "websocket_handshake_timeout": ("--websocket_handshake_timeout",),
}
# Django's default LOGGING prints "django.server" records the way runserver does.
logger = logging.getLogger("django.server")


def get_default_application() -> Any:
    """``settings.ASGI_APPLICATION`` if set, else Django's own ASGI handler."""
    path = getattr(settings, "ASGI_APPLICATION", None)
    if path is None:
        from django.core.asgi import get_asgi_application

        return get_asgi_application()
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"Cannot import ASGI_APPLICATION module {path!r}: {exc}"
        ) from exc


class Command(RunserverCommand):
    """``manage.py runserver`` on daphne: Django's command, its options and its autoreload,
    serving ``settings.ASGI_APPLICATION`` (HTTP and WebSocket) instead of WSGI.

    Every daphne server option is accepted too (``--help`` lists them), and only the typed
    ones reach the server. ``--noasgi`` falls back to Django's WSGI runserver. Set
    ``daphne_server_cls`` on a subclass to run a ``daphne.server.Server`` subclass.
    An ``ASGI_APPLICATION`` that cannot be imported is a ``CommandError`` before anything
    starts.
    """

    protocol = "http"
    daphne_server_cls: Any = None  # a Server subclass to use instead of daphne.server.Server
    # Set by RunserverCommand.handle from the addrport argument.
    addr: str
    port: str
    _raw_ipv6: bool

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--noasgi",
            action="store_false",
            dest="use_asgi",
            default=True,
            help="Run the old WSGI-based runserver rather than the ASGI-based one",
        )
        parser.add_argument(
            "--nostatic",
            action="store_false",
            dest="use_static_handler",
            help="Do not serve static files automatically",
        )
        parser.add_argument(
            "--insecure",
            action="store_true",
            dest="insecure_serving",
            help="Serve static files even if DEBUG is False",
        )
        self._add_daphne_options(parser)

    def _add_daphne_options(self, parser: Any) -> None:
        """Every daphne server option, with the long flags ``daphne`` has (see ``--help``).

        Only what is typed reaches the server, so its defaults (not the daphne command line's)
        apply; ``--http_timeout`` and ``--websocket_handshake_timeout`` keep upstream
        runserver's spellings beside daphne's; Django's own ``--verbosity`` is the server's.
        """
        taken = frozenset(s for action in parser._actions for s in action.option_strings)
        groups: dict[str, Any] = {}

        def group_for(title: str) -> Any:
            if title not in groups:
                groups[title] = parser.add_argument_group(f"daphne server: {title}")
            return groups[title]

        add_option_arguments(
            group_for,
            short_flags=False,
            suppress_defaults=True,
            taken=taken,
            aliases=_UPSTREAM_SPELLINGS,
        )
        self._daphne_parser = parser

    def handle(self, *args: Any, **options: Any) -> None:
        self.http_timeout = options.get("http_timeout")
        self.websocket_handshake_timeout = options.get("websocket_handshake_timeout", 5)
        self.daphne_options = self._typed_daphne_options(options)
        workers = self.daphne_options.get("workers", 1)
        if workers > 1:
            # The development server is one process (the autoreloader restarts it whole);
            # worker processes are the daphne command's (its supervisor owns the sockets).
            raise CommandError(
                f"runserver serves from one process; for {workers} worker processes run "
                f"'daphne --workers {workers} <project>.asgi:application'"
            )
        if not options.get("use_asgi", True):
            super().handle(*args, **options)
            return
        try:
            get_default_application()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        super().handle(*args, **options)

    def _typed_daphne_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The server options typed on the command line (or given to call_command)."""
        parser = getattr(self, "_daphne_parser", None)
        if parser is None:  # handle() called directly, without a parser
            parser = self.create_parser("manage.py", "runserver")
        try:
            return server_options(options, parser, upstream_always=False)
        except argparse.ArgumentError as exc:
            raise CommandError(str(exc)) from exc

    def inner_run(self, *args: Any, **options: Any) -> None:
        """Run the checks, print the banner, and serve until the server stops.

        Called by Django's ``runserver`` (in the reloader's child process when autoreload is
        on). Serves ``get_application(options)`` on ``addr:port`` with daphne's own signal
        handlers unless the reloader runs, and logs each request through ``log_action``. A
        server that failed to start (``startup_error``, e.g. the port is taken) is reported
        on stderr and ends the process with status 1; with ``--noasgi`` this is Django's
        ``inner_run``.
        """
        if not options.get("use_asgi", True):
            super().inner_run(*args, **options)
            return
        from django.utils import autoreload

        autoreload.raise_last_exception()
        if not options.get("skip_checks"):
            self.stdout.write("Performing system checks...\n\n")
            self.check(display_num_errors=True)
        self.check_migrations()
        self._announce()
        from daphne.server import Server

        endpoints = build_endpoint_description_strings(host=self.addr, port=int(self.port))
        server_class = self.daphne_server_cls or Server
        server = server_class(
            application=self.get_application(options),
            endpoints=endpoints,
            signal_handlers=not options["use_reloader"],
            action_logger=self.log_action,
            **{
                "http_timeout": self.http_timeout,
                "root_path": getattr(settings, "FORCE_SCRIPT_NAME", "") or "",
                "websocket_handshake_timeout": self.websocket_handshake_timeout,
                **getattr(self, "daphne_options", {}),
            },
        )
        server.run()
        if getattr(server, "startup_error", None) is not None:
            self.stderr.write(f"Error: {server.startup_error}")
            # sys.exit does not leave a reloader thread; match Django's runserver.
            import os

            os._exit(1)
        logger.debug("Daphne exited")
        if options.get("use_reloader"):
            sys.exit(0)

    def _announce(self) -> None:
        now = datetime.datetime.now().strftime("%B %d, %Y - %X")
        addr = f"[{self.addr}]" if self._raw_ipv6 else self.addr
        self.stdout.write(
            f"{now}\n"
            f"Django version {self.get_version()}, using settings {settings.SETTINGS_MODULE!r}\n"
            f"Starting ASGI/Daphne version {__version__} development server at "
            f"{self.protocol}://{addr}:{self.port}/\n"
            "Quit the server with CONTROL-C."
        )

    def get_application(self, options: dict[str, Any]) -> Any:
        """The ASGI application to serve, as a single callable.

        ``get_default_application()``, wrapped in Django's ``ASGIStaticFilesHandler`` when
        ``django.contrib.staticfiles`` is installed and static files are served: in DEBUG,
        or with ``--insecure``, and not with ``--nostatic``. Raises ``ImproperlyConfigured``
        if ``ASGI_APPLICATION`` cannot be imported.
        """
        from asgiref.compatibility import guarantee_single_callable

        application = get_default_application()
        serve_static = options.get("use_static_handler", True) and (
            settings.DEBUG or options.get("insecure_serving", False)
        )
        if serve_static and apps.is_installed("django.contrib.staticfiles"):
            from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

            application = ASGIStaticFilesHandler(application)
        return guarantee_single_callable(application)

    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        """Log one line per request or WebSocket event, Django runserver style."""
        client = details.get("client") or ""
        if protocol == "http" and action == "complete":
            status = details["status"]
            message = (
                f"HTTP {details['method']} {details['path']} {status} "
                f"[{details['time_taken']:.2f}, {client}]"
            )
            if status >= 500:
                logger.error(message)
            elif status >= 400:
                logger.warning(message)
            else:
                logger.info(message)
        elif protocol == "websocket":
            words = {
                "connected": "WebSocket CONNECT",
                "disconnected": "WebSocket DISCONNECT",
                "connecting": "WebSocket HANDSHAKING",
                "rejected": "WebSocket REJECT",
            }
            if action in words:
                logger.info(f"{words[action]} {details['path']} [{client}]")
        sys.stderr.flush()
