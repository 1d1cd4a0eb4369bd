"""Helpers that upstream Channels exposed in ``channels.utils``; code imports them from there.

``await_many_dispatch`` is the consumers' own dispatch loop (:class:`DispatchLoop`)
with upstream's signature; ``name_that_thing`` names an object for log lines.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ._dispatcher import DispatchLoop
from ._types import Message

__all__ = ["await_many_dispatch", "name_that_thing"]


async def await_many_dispatch(
    consumer_callables: Iterable[Callable[[], Awaitable[Message]]],
    dispatch: Callable[[Message], Awaitable[Any]],
) -> None:
    """Read from every callable, one message each at a time, and ``dispatch`` each message.

    Runs until ``dispatch`` raises (``StopConsumer`` included), which propagates;
    the pending reads are cancelled on the way out.
    """

    async def handler(message: Message) -> None:
        await dispatch(message)

    await DispatchLoop(list(consumer_callables), handler).run()


def name_that_thing(thing: Any) -> str:
    """Dotted name of a class or function; the class's name for an instance or a method."""
    if inspect.ismethod(thing):
        owner = thing.__self__ if inspect.isclass(thing.__self__) else type(thing.__self__)
        return f"{name_that_thing(owner)}.{thing.__name__}"
    if inspect.isclass(thing) or inspect.isfunction(thing) or inspect.isbuiltin(thing):
        module = getattr(thing, "__module__", None)
        return f"{module}.{thing.__name__}" if module else str(thing.__name__)
    return name_that_thing(type(thing))
