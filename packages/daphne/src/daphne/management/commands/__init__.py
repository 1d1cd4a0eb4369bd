"""``runserver``: Django's development server, replaced by one that serves ASGI with daphne."""
