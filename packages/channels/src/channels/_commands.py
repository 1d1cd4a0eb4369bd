"""Shared plumbing for the long-running management commands (runworker, rundelay)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import CommandError

from channels._layers import get_channel_layer

__all__ = ["command_channel_layer", "configure_command_logging"]


def command_channel_layer(alias: str) -> Any:
    """Return the layer configured under *alias*, or stop the command saying what to add."""
    channel_layer = get_channel_layer(alias)
    if channel_layer is None:
        raise CommandError(
            f"No channel layer {alias!r} configured: add it to settings.CHANNEL_LAYERS"
        )
    return channel_layer


def configure_command_logging(verbosity: int) -> None:
    """Show INFO logs on the console unless the project configured logging itself."""
    if verbosity > 0 and not logging.getLogger("channels").handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
