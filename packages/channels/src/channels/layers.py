"""Channel layers: configured in ``settings.CHANNEL_LAYERS``, found by alias.

``InMemoryChannelLayer`` and ``BaseChannelLayer`` are asgiref's, re-exported so
code written for upstream Channels keeps importing them from here.
"""

from __future__ import annotations

from asgiref.layers import BaseChannelLayer

from ._layers import ChannelLayerManager, channel_layers, get_channel_layer

__all__ = [
    "BaseChannelLayer",
    "ChannelLayerManager",
    "InMemoryChannelLayer",  # noqa: F822 - provided by __getattr__
    "channel_layers",
    "get_channel_layer",
]


def __getattr__(name: str) -> object:
    # asgiref loads the in-memory layer lazily; asking for it here is what
    # triggers that load, so importing channels.layers stays cheap.
    if name == "InMemoryChannelLayer":
        from asgiref.layers import InMemoryChannelLayer

        return InMemoryChannelLayer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
