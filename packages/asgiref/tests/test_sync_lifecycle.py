"""Process-level behaviour of asgiref's loops: clean exit, fork, Ctrl-C, no import side effects.

Each scenario runs in a fresh interpreter with ``-W error`` (ResourceWarning included) so
that a leaked thread, an unclosed loop or "Event loop is closed" shows up on stderr. Not
``-X dev``: asyncio's debug mode logs callbacks that are slow by the wall clock, which a
loaded machine turns into noise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(120)


def run_script(source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=100,
    )


def test_importing_starts_no_threads_and_no_loops() -> None:
    result = run_script(
        """
        import threading, asyncio
        before = threading.active_count()
        import asgiref.sync, asgiref.local, asgiref.server, asgiref.testing, asgiref.wsgi
        import asgiref.compatibility, asgiref.timeout, asgiref.typing
        import asgiref.current_thread_executor
        assert threading.active_count() == before, threading.enumerate()
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_exit_after_async_to_sync_is_clean_and_leaves_no_threads() -> None:
    result = run_script(
        """
        import atexit, threading, asyncio
        # Registered first, so it runs after asgiref's own exit handlers.
        atexit.register(lambda: print("threads at exit:",
                                      sorted(t.name for t in threading.enumerate())))
        from asgiref.sync import async_to_sync, sync_to_async

        async def work():
            await sync_to_async(lambda: None)()
            await sync_to_async(lambda: None, thread_sensitive=False)()
            async def agen():
                yield 1
                yield 2
            async for _ in agen():
                break
            return 5

        assert async_to_sync(work)() == 5
        assert asyncio.run(sync_to_async(lambda: 6)()) == 6
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == "threads at exit: ['MainThread']"


def test_tasks_outliving_their_call_are_cancelled_and_awaited_at_exit() -> None:
    result = run_script(
        """
        import asyncio, contextvars
        from asgiref.sync import async_to_sync

        async def background():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                print("background cancelled at exit", flush=True)
                raise

        async def spawn():
            # A fresh context: the task belongs to no call, so only the exit stops it.
            contextvars.Context().run(asyncio.ensure_future, background())
            await asyncio.sleep(0)

        async_to_sync(spawn)()
        print("call returned", flush=True)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == ["call returned", "background cancelled at exit"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_async_to_sync_works_in_a_forked_child() -> None:
    result = run_script(
        """
        import os, asyncio, warnings
        # Forking a process that has threads is what the test is about.
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork.*")
        from asgiref.sync import async_to_sync, sync_to_async

        async def pid():
            await sync_to_async(lambda: None)()
            return os.getpid()

        assert async_to_sync(pid)() == os.getpid()
        child = os.fork()
        if child == 0:
            ok = async_to_sync(pid)() == os.getpid()
            os._exit(0 if ok else 1)
        _, status = os.waitpid(child, 0)
        print("child exit", os.waitstatus_to_exitcode(status))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "child exit 0"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_a_child_forked_inside_sync_to_async_does_not_use_the_parents_loop() -> None:
    result = run_script(
        """
        import os, asyncio, warnings
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork.*")
        from asgiref.sync import async_to_sync, sync_to_async

        async def pid():
            return os.getpid()

        def fork_and_wait():
            child = os.fork()
            if child == 0:
                # This thread serves the parent's loop there; in the child it never runs.
                ok = async_to_sync(pid)() == os.getpid()
                os._exit(0 if ok else 1)
            _, status = os.waitpid(child, 0)
            return os.waitstatus_to_exitcode(status)

        async def main():
            return await sync_to_async(fork_and_wait)()

        print("child exit", asyncio.run(main()))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "child exit 0"


def test_ctrl_c_while_blocked_in_async_to_sync_cancels_the_coroutine() -> None:
    result = run_script(
        """
        import asyncio, signal, threading, time
        from asgiref.sync import async_to_sync

        # A runner started in the background (nohup, "cmd &") hands SIGINT down ignored;
        # a terminal's Ctrl-C reaches Python's default handler, so test with that.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        started = threading.Event()
        cancelled = threading.Event()

        async def long_running():
            started.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        def interrupt():
            started.wait(30)
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

        threading.Thread(target=interrupt).start()
        try:
            async_to_sync(long_running)()
        except KeyboardInterrupt:
            print("interrupted", cancelled.wait(30))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == "interrupted True"


def test_ctrl_c_while_the_caller_serves_sync_work_lets_the_driver_finish_the_call() -> None:
    result = run_script(
        """
        import _thread, asyncio, signal, threading
        from asgiref.sync import async_to_sync, sync_to_async

        # A shell starts background jobs with SIGINT ignored, and Python keeps it so:
        # interrupt_main() would then do nothing.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        events = []
        cancelled = threading.Event()

        async def body():
            await sync_to_async(lambda: None)()  # hands the loop off
            _thread.interrupt_main()  # Ctrl-C, landing while the caller serves
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        try:
            async_to_sync(body)()
        except KeyboardInterrupt:
            events.append("KeyboardInterrupt")
        if cancelled.wait(10):
            events.append("the driver cancelled the call")

        async def where():
            return threading.get_ident()

        # Once the driver has finished the cancelled call, calls run here again.
        for _ in range(500):
            if async_to_sync(where)() == threading.get_ident():
                events.append("back on the thread's loop")
                break
            threading.Event().wait(0.01)
        print(events)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == str(
        ["KeyboardInterrupt", "the driver cancelled the call", "back on the thread's loop"]
    )


def test_generators_are_finalised_at_once_and_kept_tasks_cancelled_at_exit() -> None:
    result = run_script(
        """
        import asyncio, contextvars, threading
        from asgiref.sync import async_to_sync

        async def agen():
            try:
                yield 1
                yield 2
            finally:
                print("generator finalised", flush=True)

        async def leaves_a_generator():
            async for _ in agen():
                break
            return threading.get_ident()

        # The generator's finaliser is queued as the call ends: it runs before the call
        # returns, and the loop stays with the thread.
        assert async_to_sync(leaves_a_generator)() == threading.get_ident()
        assert async_to_sync(leaves_a_generator)() == threading.get_ident()
        print("still on the thread", flush=True)

        async def waits():
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                print("cancelled at exit", flush=True)
                raise

        async def spawn():
            contextvars.Context().run(asyncio.ensure_future, waits())
            await asyncio.sleep(0)

        async_to_sync(spawn)()
        print("returned", flush=True)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "generator finalised",
        "generator finalised",
        "still on the thread",
        "returned",
        "cancelled at exit",
    ]


def test_a_forked_child_gets_a_loop_of_its_own() -> None:
    result = run_script(
        """
        import asyncio, os
        from asgiref.sync import async_to_sync

        async def loop_id():
            return id(asyncio.get_running_loop())

        parent = async_to_sync(loop_id)()
        pid = os.fork()
        if pid == 0:
            child = async_to_sync(loop_id)()
            os._exit(0 if child != parent else 3)
        _, status = os.waitpid(pid, 0)
        # The parent's loop still works (the child did not touch its selector).
        assert async_to_sync(loop_id)() == parent
        print("child exit", os.waitstatus_to_exitcode(status), flush=True)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "child exit 0"
