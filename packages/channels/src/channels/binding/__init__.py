"""Data binding: model changes broadcast to groups, and JSON frames that change models."""

from ._inbound import WebsocketBinding
from ._outbound import Binding

__all__ = ["Binding", "WebsocketBinding"]
