"""``ChannelsLiveServerTestCase`` under its upstream module path (imports django.test)."""

from ._live import ChannelsLiveServerTestCase

__all__ = ["ChannelsLiveServerTestCase"]
