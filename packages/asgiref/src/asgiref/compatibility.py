"""ASGI 2 / ASGI 3 application compatibility helpers."""

from ._compatibility import (
    double_to_single_callable,
    guarantee_single_callable,
    is_double_callable,
)

__all__ = ["double_to_single_callable", "guarantee_single_callable", "is_double_callable"]
