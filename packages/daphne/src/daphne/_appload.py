"""Loading an application from a ``module:attribute`` (or ``module.attribute``) string."""

from __future__ import annotations

import importlib
from typing import Any


def import_by_path(path: str) -> Any:
    """Import ``package.module:object.attr`` (or the dotted form without a colon)."""
    if ":" in path:
        module_path, _, object_path = path.partition(":")
    else:
        module_path, _, object_path = path.rpartition(".")
    if not module_path or not object_path:
        raise ImportError(f"expected an application path like 'module:application', got {path!r}")
    target: Any = importlib.import_module(module_path)
    for part in object_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ImportError(
                f"module {module_path!r} has no attribute path {object_path!r}"
            ) from None
    return target


__all__ = ["import_by_path"]
