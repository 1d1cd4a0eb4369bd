"""Conformance test: ``close()`` racing a send, a group_send and a waiting receive.

Each round builds a fresh layer, warms it up (connections and background tasks
exist), starts a receive that waits on an empty channel, starts a stream of
sends and one of group_sends, and calls ``close()`` at a different point of
the race: before the calls ran at all, after a few loop iterations, or while
they are in full flow. Then:

* ``close()`` returns within ``close_timeout``;
* every racing call has returned or raised a clear exception (see
  :func:`~asgi_conformance._watch.unclear_failure`) within ``close_timeout``;
* the waiting receive either ended with a clear exception, or still works: a
  message sent to its channel afterwards (through the same layer object, which
  may reopen) reaches it. It must never stay pending with nothing able to end it;
* after a last ``close()`` no task the layer started is pending, and nothing
  was reported to the loop's exception handler or warned about as unclosed.

A fresh layer built afterwards then works normally.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import pytest

from ._harness import Harness
from ._watch import LoopWatch, run_watched, unclear_failure

__all__ = ["TeardownTests"]

#: When close() starts, per round: after this many loop iterations (int), or
#: after sleeping this many seconds (float) while the calls are under way.
_CLOSE_POINTS: tuple[int | float, ...] = (0, 1, 3, 8, 25, 0.01, 0.05)
#: Calls each racing stream makes at most (it stops at its first exception).
_RACING_CALLS = 20


async def _pause(point: int | float) -> None:
    if isinstance(point, int):
        for _ in range(point):
            await asyncio.sleep(0)
    else:
        await asyncio.sleep(point)


async def _keep_calling(
    call: Callable[[str, dict[str, Any]], Awaitable[None]], target: str
) -> BaseException | None:
    """Call ``call(target, message)`` repeatedly; return the first exception raised.

    A CancelledError is returned too: nobody cancels this task, so one coming out
    of *call* is the layer's doing, and is judged like any other exception.
    """
    for n in range(_RACING_CALLS):
        try:
            await call(target, {"type": "test.race", "n": n})
        except BaseException as exc:
            return exc
        await asyncio.sleep(0)
    return None


class TeardownTests(Harness):
    """``close()`` racing calls in flight: bounded, clean, and nothing left behind."""

    __test__ = False

    #: How long close(), and a call racing it, may take before the test fails.
    close_timeout: ClassVar[float] = 10.0

    async def _bounded(self, awaitable: Awaitable[Any], what: str) -> Any:
        try:
            return await asyncio.wait_for(awaitable, self.close_timeout)
        except asyncio.TimeoutError:
            pytest.fail(f"{what} did not return within {self.close_timeout} s: it hangs")

    def test_close_racing_send_group_send_and_receive_leaves_nothing_behind(self) -> None:
        """close() racing live calls returns, ends each call clearly, and leaves no task behind."""

        async def body(watch: LoopWatch) -> None:
            for index, point in enumerate(_CLOSE_POINTS):
                await self._race_close(watch, point, settle=index % 2 == 0)
            await self._fresh_layer_works(watch)

        run_watched(body, self.test_timeout)

    async def _race_close(self, watch: LoopWatch, point: int | float, settle: bool) -> None:
        where = f"close() after {point!r} {'iterations' if isinstance(point, int) else 's'}"
        groups = "groups" in self.capabilities
        # Every other round, the member and the waiting receive use process-local
        # channels: layers often serve those through their own background machinery.
        local = not settle and "process_local" in self.capabilities
        layer = self.make_layer()
        channel, group = self.name("race"), self.name("race-group")
        silent = await layer.new_channel("conformance.silent.") if local else self.name("silent")
        await layer.send(channel, {"type": "test.warm-up"})
        await self.expect(layer, channel, {"type": "test.warm-up"})
        if groups:
            member = await layer.new_channel() if local else self.name("race-member")
            await layer.group_add(group, member)
        waiting = asyncio.ensure_future(layer.receive(silent))
        if settle:
            await asyncio.sleep(0.02)  # the receive is under way (not a condition)
        racers = {"send": asyncio.ensure_future(_keep_calling(layer.send, channel))}
        if groups:
            racers["group_send"] = asyncio.ensure_future(_keep_calling(layer.group_send, group))
        await _pause(point)
        await self._bounded(layer.close(), f"{where}, racing send and group_send,")
        for name, task in racers.items():
            outcome = await self._bounded(asyncio.shield(task), f"a {name} racing {where}")
            if outcome is not None and (reason := unclear_failure(outcome)) is not None:
                pytest.fail(f"a {name} racing {where} raised {reason}: {outcome!r}")
        await self._settle_waiting_receive(layer, silent, waiting, where)
        await self._bounded(layer.close(), f"a second close() ({where})")
        await watch.assert_no_tasks_left(f"{where} and a second close()")

    async def _settle_waiting_receive(
        self, layer: Any, channel: str, waiting: asyncio.Future[Any], where: str
    ) -> None:
        """The receive waiting at close() ends with a clear error, or still delivers."""
        marker = {"type": "test.after-close"}
        if not waiting.done():
            try:
                await self._bounded(layer.send(channel, marker), f"a send after {where}")
            except Exception as exc:
                reason = unclear_failure(exc)
                assert reason is None, f"a send after {where} raised {reason}: {exc!r}"
                # The layer refuses to reopen, so the receive must end by itself.
                await asyncio.wait([waiting], timeout=self.close_timeout)
                assert waiting.done(), (
                    f"a receive waiting at {where} neither ended nor can ever get a message "
                    f"(a send now raises {exc!r}): it hangs forever"
                )
        done, _ = await asyncio.wait([waiting], timeout=self.receive_timeout)
        if not done:
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
            pytest.fail(
                f"a receive waiting at {where} neither ended with an error nor received a "
                f"message sent to its channel afterwards within {self.receive_timeout} s"
            )
        if waiting.cancelled():
            pytest.fail(f"a receive waiting at {where} raised CancelledError, uncancelled")
        error = waiting.exception()
        if error is not None:
            reason = unclear_failure(error)
            assert reason is None, f"a receive waiting at {where} raised {reason}: {error!r}"
            return
        got = waiting.result()
        assert got == marker, f"a receive waiting at {where} returned {got!r}, never sent to it"

    async def _fresh_layer_works(self, watch: LoopWatch) -> None:
        layer = self.make_layer()
        try:
            channel = self.name("fresh")
            await layer.send(channel, {"type": "test.fresh"})
            await self.expect(layer, channel, {"type": "test.fresh"})
            if "groups" in self.capabilities:
                group, member = self.name("fresh-group"), self.name("fresh-member")
                await layer.group_add(group, member)
                await layer.group_send(group, {"type": "test.fresh-group"})
                await self.expect(layer, member, {"type": "test.fresh-group"})
            if "flush" in self.capabilities:
                await layer.flush()  # what the races queued goes too
        finally:
            await self._bounded(layer.close(), "close() of a fresh layer")
        await watch.assert_no_tasks_left("close() of a fresh layer after the races")
