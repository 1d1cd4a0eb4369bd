"""Property: across any chain of sync/async boundaries, context variables behave exactly as
they would in plain nested calls (every read sees the latest write, in execution order)."""

from __future__ import annotations

import contextvars
from typing import Any, Union

import pytest
from asgiref.local import Local
from asgiref.sync import async_to_sync, sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.timeout(120)

Program = list[Union[int, "list[Any]"]]

value: contextvars.ContextVar[int] = contextvars.ContextVar("value", default=-1)
local = Local()

programs = st.recursive(
    st.lists(st.integers(0, 1000), max_size=3),
    lambda children: st.lists(st.one_of(st.integers(0, 1000), children), max_size=4),
    max_leaves=12,
)


def expected_trace(program: Program, current: int, trace: list[tuple[int, int]]) -> int:
    for step in program:
        if isinstance(step, int):
            trace.append((current, step))
            current = step
        else:
            current = expected_trace(step, current, trace)
    return current


def record(step: int, trace: list[tuple[int, int]]) -> None:
    seen = value.get()
    assert getattr(local, "value", -1) == seen
    trace.append((seen, step))
    value.set(step)
    local.value = step


def run_sync(program: Program, trace: list[tuple[int, int]], sensitive: bool) -> None:
    for step in program:
        if isinstance(step, int):
            record(step, trace)
        else:
            async_to_sync(run_async)(step, trace, not sensitive)


async def run_async(program: Program, trace: list[tuple[int, int]], sensitive: bool) -> None:
    for step in program:
        if isinstance(step, int):
            record(step, trace)
        else:
            await sync_to_async(run_sync, thread_sensitive=sensitive)(step, trace, not sensitive)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs, sensitive=st.booleans())
def test_context_changes_cross_boundaries_like_plain_calls(
    program: Program, sensitive: bool
) -> None:
    def fresh() -> tuple[list[tuple[int, int]], int]:
        trace: list[tuple[int, int]] = []
        run_sync(program, trace, sensitive)
        return trace, value.get()

    # Each example starts from an empty context, like a new request.
    trace, final = contextvars.Context().run(fresh)
    expected: list[tuple[int, int]] = []
    assert final == expected_trace(program, -1, expected)
    assert trace == expected
