"""The public entry point: ``CHANNEL_LAYERS = {"default": {"BACKEND":
"asgi_rabbitmq.core.RabbitmqChannelLayer", "CONFIG": {"host": "amqp://..."}}}``."""

from ._errors import BrokerUnavailable
from ._layer import RabbitmqChannelLayer

__all__ = ["BrokerUnavailable", "RabbitmqChannelLayer"]
