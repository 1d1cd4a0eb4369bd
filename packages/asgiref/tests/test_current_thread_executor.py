"""CurrentThreadExecutor: work runs in the waiting thread; misuse fails loudly."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest
from asgiref.current_thread_executor import CurrentThreadExecutor

pytestmark = pytest.mark.timeout(30)


def test_runs_submitted_work_in_the_waiting_thread() -> None:
    executor = CurrentThreadExecutor()
    done: Future[None] = Future()
    ran_in: list[int] = []

    def submitter() -> None:
        result = executor.submit(lambda: ran_in.append(threading.get_ident()) or "ok")
        assert result.result(10) == "ok"
        done.set_result(None)

    threading.Thread(target=submitter).start()
    executor.run_until_future(done)
    assert ran_in == [threading.get_ident()]


def test_exceptions_reach_the_submitter() -> None:
    executor = CurrentThreadExecutor()
    done: Future[BaseException | None] = Future()

    def fail() -> None:
        raise ValueError("inside")

    def submitter() -> None:
        done.set_result(executor.submit(fail).exception(10))

    threading.Thread(target=submitter).start()
    executor.run_until_future(done)
    error = done.result()
    assert isinstance(error, ValueError)
    assert str(error) == "inside"


def test_submitting_from_its_own_thread_is_refused() -> None:
    executor = CurrentThreadExecutor()
    with pytest.raises(RuntimeError, match="from its own thread"):
        executor.submit(lambda: None)
    finished: Future[None] = Future()
    finished.set_result(None)
    executor.run_until_future(finished)


def test_submitting_after_it_quit_is_refused() -> None:
    executor = CurrentThreadExecutor()
    finished: Future[None] = Future()
    finished.set_result(None)
    executor.run_until_future(finished)
    assert executor.closed
    errors: list[BaseException] = []

    def submitter() -> None:
        try:
            executor.submit(lambda: None)
        except RuntimeError as exc:
            errors.append(exc)

    worker = threading.Thread(target=submitter)
    worker.start()
    worker.join()
    assert "already quit" in str(errors[0])


def test_run_until_future_from_another_thread_is_refused() -> None:
    executor = CurrentThreadExecutor()
    errors: list[BaseException] = []
    finished: Future[None] = Future()
    finished.set_result(None)

    def runner() -> None:
        try:
            executor.run_until_future(finished)
        except RuntimeError as exc:
            errors.append(exc)

    worker = threading.Thread(target=runner)
    worker.start()
    worker.join()
    assert "must be called from the thread that created" in str(errors[0])
    executor.run_until_future(finished)


def test_nested_executor_serves_the_outer_executors_work() -> None:
    # The thread is inside the inner run loop while work arrives for the outer executor;
    # it must run there, or the outer submitter would wait forever.
    outer = CurrentThreadExecutor()
    outer_done: Future[None] = Future()
    inner_done: Future[None] = Future()
    order: list[str] = []

    def outer_work() -> None:
        inner = CurrentThreadExecutor(outer)

        def inner_submitter() -> None:
            outer_result = outer.submit(lambda: order.append("outer work while nested"))
            outer_result.result(10)
            inner.submit(lambda: order.append("inner work")).result(10)
            inner_done.set_result(None)

        threading.Thread(target=inner_submitter).start()
        inner.run_until_future(inner_done)

    def outer_submitter() -> None:
        outer.submit(outer_work).result(20)
        outer_done.set_result(None)

    threading.Thread(target=outer_submitter).start()
    outer.run_until_future(outer_done)
    assert order == ["outer work while nested", "inner work"]


def test_cancelled_work_is_skipped() -> None:
    executor = CurrentThreadExecutor()
    ran: list[str] = []
    done: Future[None] = Future()

    def submitter() -> None:
        pending = executor.submit(lambda: ran.append("should not run"))
        assert pending.cancel()
        done.set_result(None)

    worker = threading.Thread(target=submitter)
    worker.start()
    worker.join()
    executor.run_until_future(done)
    assert ran == []


def test_work_queued_before_the_run_loop_starts_still_runs() -> None:
    executor = CurrentThreadExecutor()
    results: list[Future[int]] = []
    worker = threading.Thread(target=lambda: results.append(executor.submit(lambda: 41 + 1)))
    worker.start()
    worker.join()
    executor.run_until_future(results[0])
    assert results[0].result() == 42


def test_run_until_future_twice_is_refused() -> None:
    executor = CurrentThreadExecutor()
    finished: Future[None] = Future()
    finished.set_result(None)
    executor.run_until_future(finished)
    with pytest.raises(RuntimeError, match="already called"):
        executor.run_until_future(finished)


def test_work_left_when_the_last_executor_quits_fails_instead_of_hanging() -> None:
    # Work accepted by an executor that then quits without serving it must not leave its
    # submitter waiting forever.
    executor = CurrentThreadExecutor()
    pending: list[Future[None]] = []
    worker = threading.Thread(target=lambda: pending.append(executor.submit(lambda: None)))
    worker.start()
    worker.join()
    executor._close_after_failed_start()
    with pytest.raises(RuntimeError, match="quit before running this work"):
        pending[0].result(10)
