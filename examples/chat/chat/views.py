"""Views: pick a room, show a room, sign up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from chat.protocol import MAX_MESSAGE_LENGTH, ROOM_NAME_PATTERN

__all__ = ["index", "room", "signup"]


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/index.html", {"room_pattern": ROOM_NAME_PATTERN})


def room(request: HttpRequest, room_name: str) -> HttpResponse:
    context = {
        "room_name": room_name,
        "max_length": MAX_MESSAGE_LENGTH,
        # Whether messages get the background check, and why (chatsite/tasking.py).
        "moderation": settings.CHAT_MODERATION,
        "moderation_why": settings.CHAT_MODERATION_WHY,
    }
    return render(request, "chat/room.html", context)


def signup(request: HttpRequest) -> HttpResponse:
    form: UserCreationForm[Any] = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        return redirect("chat:index")
    return render(request, "registration/signup.html", {"form": form})
