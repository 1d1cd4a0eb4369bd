"""Django management commands of the delay server app (``rundelay``)."""
