"""Context- and thread-aware local storage (``asgiref.local.Local``)."""

from ._local import Local, _DefaultLocal, _ThreadCriticalLocal

__all__ = ["Local"]

# The classes ``Local(...)`` returns, importable under asgiref 3.13's names (not public API).
_DefaultLocal = _DefaultLocal
_ThreadCriticalLocal = _ThreadCriticalLocal
