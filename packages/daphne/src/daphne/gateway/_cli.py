"""``daphne-gateway`` and ``daphne-worker``: the two processes of gateway mode.

A small parser of its own for now; ``daphne --gateway`` will map onto
:func:`gateway_main`'s options once daphne's one-source option table
(``_config.ServerConfig``) gains them (see docs/deployment.md).

The layer is named by its backend's dotted path plus a JSON object of
keyword arguments (``--layer-config '{"hosts": ["redis://..."]}'`` or
``--layer-config @layer.json``): the same BACKEND and CONFIG as Django's
``CHANNEL_LAYERS``, so the gateway process needs no Django project. A Django
worker uses ``manage.py runworker --asgi``, which reads ``CHANNEL_LAYERS``.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._appload import import_by_path

__all__ = ["gateway_main", "load_layer", "worker_main"]

DEFAULT_LAYER = "asgiref.layers.InMemoryChannelLayer"


def load_layer(path: str, config: str | None) -> Any:
    """Build a layer from ``package.module.Class`` and a JSON object of keyword arguments."""
    backend = import_by_path(path)
    text = config or "{}"
    if text.startswith("@"):
        text = Path(text[1:]).read_text()
    kwargs = json.loads(text)
    if not isinstance(kwargs, dict):
        raise SystemExit(f"--layer-config must be a JSON object, got {text!r}")
    return backend(**kwargs)


def _layer_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--layer",
        default=DEFAULT_LAYER,
        help="Dotted path of the channel layer class (default: %(default)s, one process only)",
    )
    parser.add_argument(
        "--layer-config", default=None, help="JSON object of layer keyword arguments, or @file"
    )
    parser.add_argument("-v", "--verbosity", type=int, default=1, help="0 to 3")


def _logging(verbosity: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def gateway_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="daphne-gateway",
        description="Hold the client sockets; run the application in daphne-worker processes.",
    )
    _layer_arguments(parser)
    parser.add_argument("-b", "--bind", default="127.0.0.1", help="Interface (default %(default)s)")
    parser.add_argument("-p", "--port", type=int, default=8000, help="Port (default %(default)s)")
    parser.add_argument(
        "-e", "--endpoint", action="append", default=[], help="Twisted endpoint (repeatable)"
    )
    parser.add_argument(
        "--stale-after", type=float, default=3.0, help="Seconds without a heartbeat = dead worker"
    )
    parser.add_argument(
        "--no-worker-timeout",
        type=float,
        default=10.0,
        help="Seconds a connection waits for a live worker before 503 / close 1012",
    )
    parser.add_argument(
        "--move-buffer", type=int, default=1000, help="Client events held per moving connection"
    )
    return parser


def gateway_main(argv: Sequence[str] | None = None) -> None:
    from ..server import Server
    from ._gateway import GatewayApplication

    args = gateway_parser().parse_args(argv)
    _logging(args.verbosity)
    application = GatewayApplication(
        load_layer(args.layer, args.layer_config),
        stale_after=args.stale_after,
        no_worker_timeout=args.no_worker_timeout,
        move_buffer=args.move_buffer,
    )
    endpoints = args.endpoint or [f"tcp:port={args.port}:interface={args.bind}"]
    Server(application, endpoints, verbosity=args.verbosity).run()


def worker_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="daphne-worker", description="Run an ASGI application for a daphne-gateway."
    )
    parser.add_argument("application", help="The application, as module:attribute")
    _layer_arguments(parser)
    parser.add_argument("--heartbeat-interval", type=float, default=0.5, help="Seconds")
    parser.add_argument(
        "--drain-timeout", type=float, default=30.0, help="Seconds to drain on SIGTERM"
    )
    return parser


def worker_main(argv: Sequence[str] | None = None) -> None:
    from ._worker import GatewayWorker

    args = worker_parser().parse_args(argv)
    _logging(args.verbosity)
    GatewayWorker(
        import_by_path(args.application),
        load_layer(args.layer, args.layer_config),
        heartbeat_interval=args.heartbeat_interval,
        drain_timeout=args.drain_timeout,
    ).run()
