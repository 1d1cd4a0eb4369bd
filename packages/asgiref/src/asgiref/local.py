"""Context- and thread-aware local storage (``asgiref.local.Local``)."""

from ._local import Local

__all__ = ["Local"]
