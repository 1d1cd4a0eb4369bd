"""``manage.py runworker CHANNEL [CHANNEL ...]``: serve background-task channels."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from channels import DEFAULT_CHANNEL_LAYER
from channels._commands import command_channel_layer, configure_command_logging
from channels._routing import get_default_application
from channels._worker import Worker

__all__ = ["Command"]

logger = logging.getLogger("channels.worker")


class Command(BaseCommand):
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
        parser.add_argument("channels", nargs="+", help="Channels to listen on")

    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["layer"]
        channel_layer = command_channel_layer(alias)
        configure_command_logging(options.get("verbosity", 1))
        logger.info(
            "Running worker for channels %s on layer %r (%s)",
            options["channels"],
            alias,
            type(channel_layer).__qualname__,
        )
        worker = self.worker_class(
            application=get_default_application(),
            channels=options["channels"],
            channel_layer=channel_layer,
        )
        worker.run()
