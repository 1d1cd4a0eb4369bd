"""``manage.py runworker CHANNEL [CHANNEL ...]``: serve background-task channels.

``--tasks [QUEUE ...]`` also (or only) runs Django tasks (``django.tasks``,
Django 6.0+) sent through a ``channels.tasks.ChannelLayerBackend``; with no
queue named it serves the backend's QUEUES. Both kinds share one process and
one graceful stop.

``--asgi`` runs ASGI_APPLICATION for the connections a ``daphne-gateway``
assigns (daphne's gateway mode, ``daphne.gateway.GatewayWorker``) on the
``--layer`` alias; on SIGTERM its WebSockets move to another worker.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels import DEFAULT_CHANNEL_LAYER
from channels._commands import command_channel_layer, configure_command_logging
from channels._routing import get_default_application
from channels._worker import Worker, serve_until_signalled

__all__ = ["Command"]

logger = logging.getLogger("channels.worker")


class Command(BaseCommand):
    """``manage.py runworker CHANNEL [CHANNEL ...]``: serve channels via ``ASGI_APPLICATION``."""

    help = "Runs a worker that serves the given channels through ASGI_APPLICATION."
    leave_locale_alone = True
    worker_class = Worker

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--layer",
            dest="layer",
            default=DEFAULT_CHANNEL_LAYER,
            help="Channel layer alias to use, if not the default",
        )
        parser.add_argument(
            "--tasks",
            nargs="*",
            metavar="QUEUE",
            default=None,
            help="Also run Django tasks from these queues (default: the backend's QUEUES)",
        )
        parser.add_argument(
            "--task-backend",
            default="default",
            help="TASKS alias of the channels.tasks.ChannelLayerBackend to serve",
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=1,
            help="Tasks run at once per queue (default 1)",
        )
        parser.add_argument(
            "--asgi",
            action="store_true",
            help="Serve ASGI_APPLICATION to a daphne-gateway (gateway mode) instead of channels",
        )
        parser.add_argument("channels", nargs="*", help="Channels to listen on")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["asgi"]:
            _gateway_worker(options).run()
            return
        if not options["channels"] and options["tasks"] is None:
            raise CommandError("runworker needs channels to listen on, or --tasks [QUEUE ...]")
        configure_command_logging(options.get("verbosity", 1))
        servers: list[Any] = []
        if options["channels"]:
            servers.append(self._channel_worker(options))
        if options["tasks"] is not None:
            servers.append(_task_worker(options))
        if len(servers) == 1:
            servers[0].run()  # as before: a worker_class may customise run()
        else:
            asyncio.run(serve_until_signalled(servers))

    def _channel_worker(self, options: dict[str, Any]) -> Worker:
        alias = options["layer"]
        channel_layer = command_channel_layer(alias)
        logger.info(
            "Running worker for channels %s on layer %r (%s)",
            options["channels"],
            alias,
            type(channel_layer).__qualname__,
        )
        return self.worker_class(
            application=get_default_application(),
            channels=options["channels"],
            channel_layer=channel_layer,
        )


def _gateway_worker(options: dict[str, Any]) -> Any:
    if options["channels"] or options["tasks"] is not None:
        raise CommandError("runworker --asgi serves the gateway only: drop the channels/--tasks")
    configure_command_logging(options.get("verbosity", 1))
    # Imported here: daphne is an optional extra of channels.
    try:
        from daphne.gateway import GatewayWorker
    except ImportError as exc:
        raise CommandError(f"runworker --asgi needs daphne installed: {exc}") from exc
    channel_layer = command_channel_layer(options["layer"])
    logger.info("Running gateway worker on layer %r", options["layer"])
    return GatewayWorker(get_default_application(), channel_layer)


def _task_worker(options: dict[str, Any]) -> Any:
    # Imported here: channels.tasks needs Django 6.0, runworker does not.
    try:
        from channels.tasks import ChannelLayerBackend, TaskWorker
    except ImportError as exc:
        raise CommandError(str(exc)) from exc
    from django.tasks import task_backends

    alias = options["task_backend"]
    backend = task_backends[alias]
    if not isinstance(backend, ChannelLayerBackend):
        raise CommandError(
            f"runworker --tasks runs a channels.tasks.ChannelLayerBackend; "
            f"TASKS[{alias!r}] is {type(backend).__module__}.{type(backend).__qualname__}"
        )
    queues = options["tasks"] or sorted(backend.queues) or ["default"]
    try:
        return TaskWorker(
            backend,
            queues,
            command_channel_layer(backend.channel_layer_alias),
            concurrency=options["concurrency"],
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
