"""The ``rundelay`` command."""
