"""WebSocket routes: ``/ws/chat/<room>/``."""

from django.urls import re_path

from chat.consumers import ChatConsumer, RefusingConsumer
from chat.protocol import ROOM_NAME_PATTERN

__all__ = ["websocket_urlpatterns"]

websocket_urlpatterns = [
    re_path(rf"^ws/chat/(?P<room_name>{ROOM_NAME_PATTERN})/$", ChatConsumer.as_asgi()),  # type: ignore[arg-type]
    # Last: any other path (a bad room name included) is refused with a 403.
    re_path(r"", RefusingConsumer.as_asgi()),  # type: ignore[arg-type]
]
