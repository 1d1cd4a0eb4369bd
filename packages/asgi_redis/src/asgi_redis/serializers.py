"""Opt-in serializers beyond the plain ones in ``asgiref.layers``.

``DjangoMsgPackSerializer`` (``serializer_format="django"``) carries the values
Django code puts in messages (#287): ``datetime``, ``date``, ``time``,
``timedelta``, ``Decimal`` and ``UUID`` round-trip as themselves, and lazy
translation strings are sent as ``str``. It does not import Django.
"""

from __future__ import annotations

from ._rich import DjangoMsgPackSerializer

__all__ = ["DjangoMsgPackSerializer"]
