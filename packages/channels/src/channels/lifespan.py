"""ASGI lifespan (startup/shutdown hooks) for ``ProtocolTypeRouter``."""

from ._lifespan import Lifespan

__all__ = ["Lifespan"]
