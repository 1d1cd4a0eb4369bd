"""A RabbitMQ channel layer for Django Channels and ASGI servers, built on aio-pika.

The layer lives in :mod:`asgi_rabbitmq.core`; importing this package has no side
effects (no connection, no event loop, no environment read).
"""

__version__ = "1.0.0"

__all__ = ["__version__"]
