"""The chat demo's Django project: settings, URLs and the ASGI entry point."""
