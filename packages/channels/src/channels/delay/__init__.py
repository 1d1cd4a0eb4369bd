"""The delay server: messages sent to a channel after a delay, surviving restarts.

Add ``"channels.delay"`` to ``INSTALLED_APPS``, run ``manage.py migrate`` and
``manage.py rundelay``; producers call :func:`send_delayed`. Importing this
package touches neither the database nor the app registry.
"""

from ._message import DELAY_CHANNEL, MAX_DELAY_MS, InvalidDelayMessage, validate_delay_message
from ._send import send_delayed

__all__ = [
    "DELAY_CHANNEL",
    "MAX_DELAY_MS",
    "InvalidDelayMessage",
    "send_delayed",
    "validate_delay_message",
]
