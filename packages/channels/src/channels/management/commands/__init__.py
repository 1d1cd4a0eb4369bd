"""The ``runworker`` command."""
