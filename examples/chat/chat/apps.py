"""App config for the chat app."""

from django.apps import AppConfig

__all__ = ["ChatConfig"]


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"
