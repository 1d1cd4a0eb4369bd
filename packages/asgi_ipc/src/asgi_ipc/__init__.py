"""A channel layer over POSIX shared memory, for processes on one machine."""

from __future__ import annotations

__version__ = "1.0.0"

__all__ = ["IPCChannelLayer", "__version__"]


def __getattr__(name: str) -> object:
    # Settings written for the Channels 1 era name "asgi_ipc.IPCChannelLayer";
    # the class is loaded on first use so importing the package stays free.
    if name == "IPCChannelLayer":
        from .core import IPCChannelLayer

        return IPCChannelLayer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
