"""Stored delayed messages: a row lives from receipt until its message is sent."""

from __future__ import annotations

import datetime

from django.db import models

__all__ = ["DelayedMessage"]


class DelayedMessage(models.Model):
    """A message waiting for its delay to pass, then sent to its channel."""

    channel: models.CharField[str, str] = models.CharField(max_length=100)
    #: The message, encoded by asgiref's "json" serializer (bytes survive).
    content: models.TextField[str, str] = models.TextField()
    due_at: models.DateTimeField[datetime.datetime, datetime.datetime] = models.DateTimeField(
        db_index=True
    )
    created_at: models.DateTimeField[datetime.datetime, datetime.datetime] = models.DateTimeField(
        auto_now_add=True
    )

    class Meta:
        app_label = "channels_delay"
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"to {self.channel} at {self.due_at.isoformat()}"
