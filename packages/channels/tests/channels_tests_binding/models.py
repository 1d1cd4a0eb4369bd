from __future__ import annotations

from django.db import models


class Article(models.Model):
    title = models.CharField(max_length=50)
    body = models.TextField(blank=True, default="")
    secret = models.CharField(max_length=50, blank=True, default="")
    room = models.CharField(max_length=20, default="lobby")

    class Meta:
        app_label = "channels_tests_binding"
