"""HTTP routes: the index page, a room page and sign-up."""

from django.urls import re_path

from chat import views
from chat.protocol import ROOM_NAME_PATTERN

__all__ = ["app_name", "urlpatterns"]

app_name = "chat"

urlpatterns = [
    re_path(r"^$", views.index, name="index"),
    re_path(r"^signup/$", views.signup, name="signup"),
    re_path(rf"^chat/(?P<room_name>{ROOM_NAME_PATTERN})/$", views.room, name="room"),
]
