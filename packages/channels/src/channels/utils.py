"""Upstream's ``channels.utils`` helpers: ``await_many_dispatch`` and ``name_that_thing``."""

from ._upstream_helpers import await_many_dispatch, name_that_thing

__all__ = ["await_many_dispatch", "name_that_thing"]
