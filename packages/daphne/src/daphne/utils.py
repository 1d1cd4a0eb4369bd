"""Upstream's helper functions: ``parse_x_forwarded_for``, ``header_value``, ``import_by_path``."""

from ._appload import import_by_path
from ._forwarded import header_value, parse_x_forwarded_for

__all__ = ["header_value", "import_by_path", "parse_x_forwarded_for"]
