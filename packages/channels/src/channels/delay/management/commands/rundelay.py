"""``manage.py rundelay``: store delay requests and send them when due."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from channels import DEFAULT_CHANNEL_LAYER
from channels._commands import command_channel_layer, configure_command_logging
from channels.delay._message import DELAY_CHANNEL
from channels.delay._server import DelayServer

__all__ = ["Command"]

logger = logging.getLogger("channels.delay")

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Command(BaseCommand):
    """``manage.py rundelay``: the delay server, which sends messages after their delay."""

    help = "Runs the delay server: messages sent to a channel after a delay."
    leave_locale_alone = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--layer", default=DEFAULT_CHANNEL_LAYER, help="Channel layer alias")
        parser.add_argument("--channel", default=DELAY_CHANNEL, help="Channel to listen on")

    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["layer"]
        channel_layer = command_channel_layer(alias)
        configure_command_logging(options.get("verbosity", 1))
        server = DelayServer(channel_layer, options["channel"])
        asyncio.run(_run_until_signalled(server))


async def _run_until_signalled(server: DelayServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, _request_stop, stop, signum)
    try:
        await server.run(stop)
    finally:
        for signum in _STOP_SIGNALS:
            loop.remove_signal_handler(signum)


def _request_stop(stop: asyncio.Event, signum: int) -> None:
    logger.info("Received %s: stopping after the current step", signal.Signals(signum).name)
    stop.set()
