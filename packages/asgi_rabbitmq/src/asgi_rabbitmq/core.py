"""The public entry point: ``CHANNEL_LAYERS = {"default": {"BACKEND":
"asgi_rabbitmq.core.RabbitmqChannelLayer", "CONFIG": {"host": "amqp://..."}}}``.

``ReconnectDelay`` (seconds, as in channels_rabbitmq) is the longest wait between
attempts to reconnect after the broker connection is lost; it is read at every
attempt, so assigning ``asgi_rabbitmq.core.ReconnectDelay = 0.1`` takes effect at once.
"""

from ._errors import BrokerUnavailable, ChannelNotOwned
from ._layer import RabbitmqChannelLayer
from ._link import RECONNECT_DELAY

ReconnectDelay: float = RECONNECT_DELAY

__all__ = ["BrokerUnavailable", "ChannelNotOwned", "RabbitmqChannelLayer", "ReconnectDelay"]
