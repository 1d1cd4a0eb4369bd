"""The background worker that serves named channels (``manage.py runworker``)."""

from ._worker import Worker

__all__ = ["Worker"]
