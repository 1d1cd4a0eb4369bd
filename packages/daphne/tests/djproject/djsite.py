"""A one-file Django project the Django-integration tests run with manage.py runserver."""

import os
import sys
from pathlib import Path

HERE = Path(__file__).parent
SECRET_KEY = "tests-only"
DEBUG = os.environ.get("DJSITE_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "djsite"
USE_TZ = True
STATIC_URL = "/static/"
STATICFILES_DIRS = [HERE / "static_src"]
DATABASES = {}
ORDER = os.environ.get("DJSITE_ORDER", "daphne-first")
INSTALLED_APPS = (
    ["daphne", "django.contrib.staticfiles"]
    if ORDER == "daphne-first"
    else ["django.contrib.staticfiles", "daphne"]
)
if os.environ.get("DJSITE_ASGI"):
    ASGI_APPLICATION = os.environ["DJSITE_ASGI"]


def hello(request):
    from django.http import HttpResponse

    return HttpResponse(f"hello from django {request.scheme} {request.path}")


from django.urls import path  # noqa: E402

urlpatterns = [path("hello/", hello)]


async def websocket_app(scope, receive, send):
    """ASGI_APPLICATION for the WebSocket test: Django for HTTP, an echo for WebSockets."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": "echo:" + message["text"]})
        await receive()
        return
    from django.core.asgi import get_asgi_application

    await get_asgi_application()(scope, receive, send)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djsite")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
