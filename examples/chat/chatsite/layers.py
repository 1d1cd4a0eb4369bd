"""Choose the channel layer from the environment.

``CHAT_CHANNEL_LAYER`` selects one of :data:`LAYER_NAMES`; the default is the
in-memory layer, so the demo runs with no broker at all. This is a pure function of
the mapping it is given, so it is tested without touching ``os.environ``.

Environment variables (all optional):

``CHAT_CHANNEL_LAYER``  ``memory`` (default), ``redis``, ``rabbitmq`` or ``ipc``.
``ASGI_REDIS_URL``      Redis URL for ``redis`` (default ``redis://127.0.0.1:6379/0``).
``ASGI_RABBITMQ_URL``   AMQP URL for ``rabbitmq`` (default guest/guest on 127.0.0.1:5672).
``CHAT_LAYER_PREFIX``   Name prefix for ``redis``, ``rabbitmq`` and ``ipc`` (default ``chat``);
                        processes that should share rooms must use the same prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_LAYER", "LAYER_NAMES", "channel_layers_from_env", "layer_name_from_env"]

DEFAULT_LAYER = "memory"
LAYER_NAMES = ("memory", "redis", "rabbitmq", "ipc")

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_PREFIX = "chat"


def channel_layers_from_env(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Return a ``CHANNEL_LAYERS`` setting for the layer named in ``environ``.

    Raises ``ValueError`` naming the accepted values when the name is unknown, so a
    typo fails at startup instead of silently falling back to the in-memory layer
    (which would quietly stop two processes from sharing rooms).
    """
    name = layer_name_from_env(environ)
    prefix = environ.get("CHAT_LAYER_PREFIX", "").strip() or DEFAULT_PREFIX
    if name == "memory":
        layer: dict[str, Any] = {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    elif name == "redis":
        url = environ.get("ASGI_REDIS_URL", "").strip() or DEFAULT_REDIS_URL
        layer = {
            "BACKEND": "asgi_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": prefix},
        }
    elif name == "rabbitmq":
        url = environ.get("ASGI_RABBITMQ_URL", "").strip() or DEFAULT_RABBITMQ_URL
        layer = {
            "BACKEND": "asgi_rabbitmq.core.RabbitmqChannelLayer",
            "CONFIG": {"host": url, "prefix": prefix},
        }
    else:
        layer = {"BACKEND": "asgi_ipc.core.IPCChannelLayer", "CONFIG": {"prefix": prefix}}
    return {"default": layer}


def layer_name_from_env(environ: Mapping[str, str]) -> str:
    """The layer named by ``CHAT_CHANNEL_LAYER`` (one of :data:`LAYER_NAMES`).

    Raises ``ValueError`` naming the accepted values when the name is unknown.
    """
    name = environ.get("CHAT_CHANNEL_LAYER", "").strip().lower() or DEFAULT_LAYER
    if name not in LAYER_NAMES:
        raise ValueError(
            f"CHAT_CHANNEL_LAYER must be one of {', '.join(LAYER_NAMES)}; got {name!r}"
        )
    return name
