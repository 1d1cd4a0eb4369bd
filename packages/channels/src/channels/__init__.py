"""Django Channels: WebSockets, long-poll HTTP, background workers and channel layers."""

__version__ = "4.3.0"

#: The alias of the channel layer consumers use unless told otherwise.
DEFAULT_CHANNEL_LAYER = "default"

__all__ = ["DEFAULT_CHANNEL_LAYER", "__version__"]
