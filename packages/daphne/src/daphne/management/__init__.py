"""Django management commands that daphne provides once ``"daphne"`` is in INSTALLED_APPS."""
