"""Django management commands of the channels app (``runworker``)."""
