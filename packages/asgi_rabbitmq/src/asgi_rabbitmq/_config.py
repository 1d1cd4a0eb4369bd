"""Layer configuration: validation and the broker-side arguments derived from it.

Pure: no IO. Every process of a deployment must use the same settings, because
queue arguments are part of a queue's identity on the broker (a process that
declares an existing queue with different arguments is refused).
"""

from __future__ import annotations

import math
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from asgiref.layers import CapacityMatcher, CapacityPattern, InvalidChannelLayerError

__all__ = ["DEFAULT_HOST", "LayerConfig", "build_config", "queue_arguments"]

DEFAULT_HOST: Final = "amqp://guest:guest@127.0.0.1:5672/%2F"

#: A queue nobody consumes from or declares for this long is deleted by the
#: broker. It must outlive every message it can hold (see ``queue_arguments``).
_MIN_QUEUE_EXPIRY_SECONDS: Final = 300.0


@dataclass(frozen=True)
class LayerConfig:
    """Validated settings of one :class:`RabbitmqChannelLayer`."""

    host: str
    ssl_context: ssl.SSLContext | None
    prefix: str
    expiry: float
    local_expiry: float
    group_expiry: float
    remote_capacity: int
    local_capacities: CapacityMatcher
    prefetch_count: int
    connect_timeout: float
    #: The direct exchange group messages go through (``<prefix>.groups`` by default).
    groups_exchange: str

    @property
    def queue_expiry(self) -> float:
        """Seconds an unused queue survives; always longer than a message lives."""
        return max(_MIN_QUEUE_EXPIRY_SECONDS, 4 * self.expiry)

    def process_queue(self, client_id: str) -> str:
        """The queue holding every process-local channel of client *client_id*."""
        return f"{self.prefix}.proc.{client_id}"

    def normal_queue(self, channel: str) -> str:
        """The shared work queue of the normal channel *channel*."""
        return f"{self.prefix}.chan.{channel}"


def _positive_number(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidChannelLayerError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidChannelLayerError(f"{name} must be a positive int, got {value!r}")
    return value


def _check_host(host: object, ssl_context: object) -> str:
    if not isinstance(host, str):
        raise InvalidChannelLayerError(
            f"host must be an AMQP URL string such as {DEFAULT_HOST!r}, got {host!r}"
        )
    scheme = urlsplit(host).scheme
    if scheme not in ("amqp", "amqps"):
        raise InvalidChannelLayerError(
            f"host must be an amqp:// or amqps:// URL, got scheme {scheme!r} in {host!r}"
        )
    if ssl_context is not None:
        if not isinstance(ssl_context, ssl.SSLContext):
            raise InvalidChannelLayerError(
                f"ssl_context must be an ssl.SSLContext, got {type(ssl_context).__name__}"
            )
        if scheme != "amqps":
            # aio-pika decides on TLS from the scheme: a context with amqp://
            # would be silently ignored and the traffic sent in clear text.
            raise InvalidChannelLayerError(f"ssl_context needs an amqps:// host URL, got {host!r}")
    return host


def _check_prefix(prefix: object) -> str:
    if not isinstance(prefix, str) or not prefix or len(prefix) > 100:
        raise InvalidChannelLayerError(
            f"prefix must be a non-empty str of at most 100 characters, got {prefix!r}"
        )
    return prefix


def _check_exchange(name: object, prefix: str) -> str:
    if name is None:
        return f"{prefix}.groups"
    if not isinstance(name, str) or not name or len(name) > 255:
        raise InvalidChannelLayerError(
            f"groups_exchange must be a non-empty str of at most 255 characters, got {name!r}"
        )
    return name


def build_config(
    *,
    host: object,
    ssl_context: object,
    prefix: object,
    expiry: object,
    local_expiry: object,
    group_expiry: object,
    capacity: int,
    channel_capacity: Mapping[CapacityPattern, int] | None,
    local_capacity: object,
    remote_capacity: object,
    prefetch_count: object,
    connect_timeout: object,
    groups_exchange: object = None,
) -> LayerConfig:
    """Validate the constructor arguments; ``None`` means "same as the general setting",
    except for ``group_expiry``, where it means memberships never expire (as in
    channels_rabbitmq, which had no group expiry)."""
    expiry_s = _positive_number("expiry", expiry)
    prefix_s = _check_prefix(prefix)
    local_default = capacity if local_capacity is None else local_capacity
    return LayerConfig(
        host=_check_host(host, ssl_context),
        ssl_context=ssl_context,  # type: ignore[arg-type]  # checked above
        prefix=prefix_s,
        expiry=expiry_s,
        local_expiry=(
            expiry_s if local_expiry is None else _positive_number("local_expiry", local_expiry)
        ),
        group_expiry=(
            math.inf if group_expiry is None else _positive_number("group_expiry", group_expiry)
        ),
        remote_capacity=_positive_int(
            "remote_capacity", capacity if remote_capacity is None else remote_capacity
        ),
        local_capacities=CapacityMatcher(
            _positive_int("local_capacity", local_default), channel_capacity
        ),
        prefetch_count=_positive_int("prefetch_count", prefetch_count),
        connect_timeout=_positive_number("connect_timeout", connect_timeout),
        groups_exchange=_check_exchange(groups_exchange, prefix_s),
    )


def queue_arguments(config: LayerConfig, max_length: int) -> dict[str, Any]:
    """Broker arguments for a layer queue holding at most *max_length* messages.

    ``reject-publish`` makes a full queue refuse new messages (the publisher
    gets a nack, which ``send`` turns into ``ChannelFull``) instead of silently
    dropping the oldest one, which is the broker's default.
    """
    return {
        "x-max-length": max_length,
        "x-overflow": "reject-publish",
        "x-message-ttl": max(1, round(config.expiry * 1000)),
        "x-expires": round(config.queue_expiry * 1000),
    }
