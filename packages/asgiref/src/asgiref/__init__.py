"""ASGI base library: sync/async bridging, Local, test tools, typing and channel layers."""

__version__ = "3.14.0"

__all__ = ["__version__"]
