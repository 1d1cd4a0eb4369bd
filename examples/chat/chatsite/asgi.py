"""The ASGI entry point: ``daphne chatsite.asgi:application``.

HTTP goes to Django. WebSocket connections are checked against ALLOWED_HOSTS (Origin
header), get the session user from ``AuthMiddlewareStack``, then are routed by path.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
# Django must be set up before anything that imports models (the auth middleware
# and the consumers do), so the HTTP application is built first.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402

__all__ = ["application"]

application = ProtocolTypeRouter(
    {
        # django-stubs types ASGIHandler more loosely than an ASGI callable.
        "http": django_asgi_app,  # type: ignore[dict-item]
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
