"""A receiver spins briefly (through its event loop) before it sleeps; see _spin.

What must hold whatever the scheduler does: round trips with another process
complete with spinning on or off, also when both processes share one CPU (a
spinner must not starve its partner there), and a receiver left waiting goes
to sleep: it stops using CPU after at most the spin window.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from asgi_ipc.core import IPCChannelLayer

Make = Callable[..., IPCChannelLayer]
WORKER = Path(__file__).parent / "helpers" / "worker.py"


@pytest.fixture
def one_cpu() -> Iterator[int]:
    """Pin this process (and the workers it starts) to one CPU for the test."""
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed)
    os.sched_setaffinity(0, {cpu})
    yield cpu
    os.sched_setaffinity(0, allowed)


async def round_trips(layer: IPCChannelLayer, python: str, prefix: str, count: int) -> float:
    """*count* jobs to a worker process, each answered before the next; seconds taken."""
    worker = await asyncio.create_subprocess_exec(python, str(WORKER), prefix)
    await asyncio.wait_for(layer.receive("workers.ready"), 10)
    reply = await layer.new_channel()
    started = time.monotonic()
    for job in range(count):
        await layer.send("workers.jobs", {"job": job, "reply": reply})
        answer = await asyncio.wait_for(layer.receive(reply), 10)
        assert answer == {"job": job, "pid": worker.pid}
    elapsed = time.monotonic() - started
    await layer.send("workers.jobs", {"stop": True})
    assert await asyncio.wait_for(worker.wait(), 10) == 0
    return elapsed


@pytest.mark.parametrize("spin", [0, 0.0003, 0.005])
async def test_round_trips_with_a_worker_process_complete_with_any_spin_window(
    make_layer: Make, prefix: str, python: str, spin: float
) -> None:
    layer = make_layer(spin=spin, capacity=1000)
    await round_trips(layer, python, prefix, 300)


async def test_spinning_does_not_starve_a_partner_on_the_same_cpu(
    make_layer: Make, prefix: str, python: str, one_cpu: int
) -> None:
    # Both processes on one CPU, with a long window: were the spinner to keep
    # the CPU for its whole window each time, 300 round trips would take at
    # least 300 x 5 ms = 1.5 s; giving way, they take a small part of that.
    layer = make_layer(spin=0.005, capacity=1000)
    elapsed = await round_trips(layer, python, prefix, 300)
    assert elapsed < 1.0, f"300 round trips on one CPU took {elapsed:.2f} s"


async def test_a_receiver_left_waiting_stops_using_cpu(make_layer: Make) -> None:
    layer = make_layer(spin=0.005)

    async def feed() -> None:
        for index in range(50):
            await asyncio.sleep(0)
            await layer.send("work.queue", {"index": index})

    feeder = asyncio.create_task(feed())
    for index in range(50):  # short waits: the receiver spins on the next one
        assert await layer.receive("work.queue") == {"index": index}
    await feeder
    waiting = asyncio.create_task(layer.receive("work.queue"))
    await asyncio.sleep(0.05)  # past the spin window: asleep by now
    before = time.process_time()
    await asyncio.sleep(0.5)
    used = time.process_time() - before
    assert not waiting.done()
    assert used < 0.05, f"a waiting receiver used {used * 1000:.1f} ms of CPU in 0.5 s"
    await layer.send("work.queue", {"index": "last"})
    assert await asyncio.wait_for(waiting, 5) == {"index": "last"}


async def test_a_spinning_receiver_takes_its_wake_up_from_the_fifo_directly(
    tmp_path: Path,
) -> None:
    # The spin looks at the FIFO itself each turn: a wake-up written by another
    # process (here: a plain write to the FIFO) resolves the armed future without
    # the loop having polled its descriptors; with nothing written, poll() is False,
    # and a closed waker never reads (its descriptor number may be reused).
    from asgi_ipc._spin import Spinner
    from asgi_ipc._wakeup import Poster, Waker

    waker = Waker(str(tmp_path / "fifo"), 0o600)
    poster = Poster()
    try:
        armed = waker.arm()
        assert waker.poll() is False  # nothing written yet
        assert not armed.done()
        poster.post(waker.path)  # another process's wake-up
        polls: list[bool] = []

        def poll() -> bool:
            polls.append(waker.poll())
            return polls[-1]

        # No loop turn happens before the spin's first look: only poll() can see it.
        await asyncio.wait_for(Spinner(window=5.0).wait(armed, poll), 10)
        assert armed.done()
        assert polls == [True]
    finally:
        poster.close()
        waker.close()
    assert waker.poll() is False
