"""URLs: the chat pages, sign-in/sign-up and the admin."""

from django.contrib import admin
from django.urls import include, path

__all__ = ["urlpatterns"]

urlpatterns = [
    path("", include("chat.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
