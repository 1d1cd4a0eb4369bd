"""Django's Tasks framework (``django.tasks``, Django 6.0+) on channel layers.

Configure ``TASKS = {"default": {"BACKEND": "channels.tasks.ChannelLayerBackend"}}``
and run ``manage.py runworker --tasks``. See docs/tasks.md for the options
and the delivery guarantees (at most once). Importing this package on a Django
without ``django.tasks`` raises ImportError naming the requirement; importing
it touches neither the database nor the app registry.
"""

from ._requirement import require_django_tasks

require_django_tasks()

from ._backend import ChannelLayerBackend  # noqa: E402
from ._message import CHANNEL_PREFIX, task_channel  # noqa: E402
from ._worker import TaskWorker  # noqa: E402

__all__ = ["CHANNEL_PREFIX", "ChannelLayerBackend", "TaskWorker", "task_channel"]
