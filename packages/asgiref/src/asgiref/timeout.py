"""An async timeout context manager (``async with timeout(seconds): ...``)."""

from ._timeout import timeout

__all__ = ["timeout"]
