"""``async_to_sync``: call an async function from sync code and block for its result.

Where the coroutine runs:

* in a thread that is running a ``sync_to_async`` call: on the loop awaiting that call
  (it is idle in this respect: it is awaiting us), so loop-bound state stays on its loop;
* inside :class:`AsyncSingleThreadContext`: on the loop the context's first call used;
* with ``force_new_loop=True``: on a fresh loop in a fresh thread, closed afterwards;
* otherwise: on the calling thread's own loop, in the calling thread (see ``_thread_loop``;
  once that loop has graduated to a thread of its own, there; while it still finishes an
  interrupted call, on asgiref's shared loop thread, see ``_loop_thread``).

Meanwhile the calling thread serves a :class:`CurrentThreadExecutor`, so thread-sensitive
``sync_to_async`` calls made by the coroutine come back to it (on its own loop, the thread
first hands the loop off to a driver thread).

Tasks the coroutine starts and leaves unfinished are cancelled and awaited before the call
returns, like :func:`asyncio.run` (and asgiref 3.x, which closed a loop per call) would,
unless the coroutine ran on the loop awaiting the calling thread: there it is part of the
application on that loop, and its tasks are left running, as in 3.x (they belong to the
enclosing call, if any). The loop itself lives on, so loop-bound resources keep working
(see ``_task_scope``). On the awaiting loop the coroutine's task also receives the
cancellation of the ``sync_to_async`` call awaiting this thread (see ``_sync_to_async``).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sys
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar, overload

from ._context import await_handling, copy_bound_self, restore_context
from ._coroutines import is_async_callable, unmark_coroutine_function
from ._current_thread_executor import CurrentThreadExecutor
from ._loop_thread import LoopThread, shared_loop_thread
from ._storage import adopt_context
from ._sync_to_async import awaiting_loop, awaiting_task_context
from ._task_scope import TaskScope, needs_factory, scoped_task_factory
from ._thread_loop import ThreadLoop, is_handed_off, own_thread_loop
from ._thread_sensitive import ExecutorBinding, enter_bridge

__all__ = ["AsyncSingleThreadContext", "AsyncToSync", "async_to_sync"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_single_thread_var: contextvars.ContextVar[AsyncSingleThreadContext | None] = (
    contextvars.ContextVar("asgiref.sync.single_thread_context", default=None)
)

#: The loop class ``asyncio.new_event_loop`` gives by default (``_unix_events``' on Unix).
_SELECTOR_LOOP: type[asyncio.AbstractEventLoop] = asyncio.SelectorEventLoop

_LOOP_THREAD_ERROR = (
    "You cannot use AsyncToSync in the same thread as an async event loop - "
    "just await the async function directly."
)


class _Outcome:
    """What the coroutine produced, plus its final context (to replay in the caller).

    The loop's thread publishes ``(value, error, context)`` as one tuple, in one store, then
    notifies the calling thread: whoever sees the tuple sees all of it (no lock needed, also
    without a GIL).
    """

    __slots__ = ("finish", "result", "task")

    def __init__(self, finish: Callable[[], None] | None = None) -> None:
        self.result: tuple[Any, BaseException | None, contextvars.Context] | None = None
        #: The call's task, set by its first step (on the loop's thread).
        self.task: asyncio.Task[Any] | None = None
        #: Called (on the loop) once ``result`` is set; None: notify the executor.
        self.finish = finish

    def done(self) -> bool:
        return self.result is not None


class AsyncToSync(Generic[_P, _R]):
    """Wrap an async callable so that calling the wrapper from sync code blocks for it.

    Raises :class:`RuntimeError` when called from a thread that runs an event loop (that
    would block the loop), unless ``force_new_loop=True``.
    """

    #: ``executors.current``: the executor of the innermost enclosing call (3.x's name).
    executors = ExecutorBinding()

    def __init__(
        self, awaitable: Callable[_P, Awaitable[_R]], force_new_loop: bool = False
    ) -> None:
        if not is_async_callable(awaitable):
            # Callables returning awaitables cannot be told apart from sync ones without
            # calling them, so this is a warning, as in asgiref 3.x (whose message code
            # matches on, word for word); calling a non-callable fails at call time.
            warnings.warn("async_to_sync was passed a non-async-marked callable", stacklevel=2)
        self.awaitable = awaitable
        self.force_new_loop = force_new_loop
        functools.update_wrapper(self, awaitable)
        unmark_coroutine_function(self)
        copy_bound_self(awaitable, self)

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not self.force_new_loop and asyncio._get_running_loop() is not None:
            raise RuntimeError(_LOOP_THREAD_ERROR)
        own_loop: LoopThread | None = None
        target = self._target()
        if isinstance(target, ThreadLoop):
            value, error, context = self._run_here(target, args, kwargs)
        else:
            if target is None:
                own_loop = LoopThread("asgiref-async-to-sync-new-loop")
                loop = own_loop.loop
            else:
                loop = target
            try:
                value, error, context = self._run_on(loop, args, kwargs)
            finally:
                if own_loop is not None:
                    own_loop.stop()
        restore_context(context)
        if error is not None:
            try:
                raise error
            finally:
                del error  # no cycle through this frame's traceback
        result: _R = value
        return result

    def _target(self) -> ThreadLoop | asyncio.AbstractEventLoop | None:
        """This thread's own loop, another running loop, or None for a fresh one."""
        if self.force_new_loop:
            return None
        single = _single_thread_var.get()
        if single is not None:
            return single._loop()
        parent = awaiting_loop()
        if parent is not None and (parent.is_running() or is_handed_off(parent)):
            return parent
        here = own_thread_loop()
        if here.background is not None:
            return here.background.loop
        if here.busy:
            return shared_loop_thread().loop  # still finishing an interrupted call
        return here

    def _run_here(
        self, here: ThreadLoop, args: Any, kwargs: Any
    ) -> tuple[Any, BaseException | None, contextvars.Context]:
        """Run the coroutine on this thread's own loop, in this thread (see _thread_loop)."""
        executor = CurrentThreadExecutor()
        outcome = _Outcome(here.loop.stop)
        coro = self._main(executor, outcome, sys.exc_info()[1], args, kwargs, True, None)
        task = here.start(coro, contextvars.copy_context())
        here.run(task, executor, outcome)
        assert outcome.result is not None  # run returns once the task is done
        return outcome.result

    def _run_on(
        self, loop: asyncio.AbstractEventLoop, args: Any, kwargs: Any
    ) -> tuple[Any, BaseException | None, contextvars.Context]:
        executor = CurrentThreadExecutor()
        outcome = _Outcome()
        # On the loop awaiting our thread, the coroutine is part of the application that
        # awaits us: its cancellation reaches the coroutine and its leftover tasks stay.
        on_awaiting_loop = loop is awaiting_loop()
        task_context = awaiting_task_context() if on_awaiting_loop else None
        coro = self._main(
            executor, outcome, sys.exc_info()[1], args, kwargs, not on_awaiting_loop, task_context
        )
        context = contextvars.copy_context()
        started: list[asyncio.Task[None]] = []
        try:
            try:
                if not on_awaiting_loop and _starts_directly(loop, context):
                    started.append(_start_directly(loop, coro, context))
                else:
                    loop.call_soon_threadsafe(_start, loop, coro, started, context=context)
            except RuntimeError:
                if not loop.is_closed():
                    raise
                coro.close()
                raise RuntimeError(
                    f"async_to_sync could not schedule {self.awaitable!r}: its event loop is closed"
                ) from None
            # Nothing between scheduling and serving: the loop's thread is waking up now.
            executor._serve_until(outcome)
        except BaseException:
            # Interrupted (Ctrl-C can land even inside call_soon_threadsafe): nobody will
            # collect the result any more, so the coroutine must not run on unowned.
            executor._close_after_failed_start()
            _cancel_soon(loop, coro, started, outcome)
            raise
        assert outcome.result is not None  # _serve_until returns once it is set
        return outcome.result

    async def _main(
        self,
        executor: CurrentThreadExecutor,
        outcome: _Outcome,
        handling: BaseException | None,
        args: Any,
        kwargs: Any,
        own_scope: bool,
        task_context: list[asyncio.Task[Any]] | None,
    ) -> None:
        adopt_context()
        task = outcome.task = asyncio.current_task()
        enter_bridge(executor, task)
        scope = TaskScope() if own_scope else None
        if scope is not None:
            scope.enter()
        if task_context is not None and task is not None:
            task_context.append(task)
        value: Any = None
        error: BaseException | None = None
        try:
            value = await await_handling(handling, self.awaitable, *args, **kwargs)
        except BaseException as exc:
            error = exc
        finally:
            if task_context is not None and task in task_context:
                task_context.remove(task)
            try:
                if scope is not None and scope.has_members():
                    await scope.cancel_leftovers()
            finally:
                outcome.result = (value, error, contextvars.copy_context())
                if outcome.finish is None:
                    executor._notify()
                else:
                    outcome.finish()

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return functools.partial(self.__call__, instance)  # type: ignore[arg-type]


def _start(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, None],
    started: list[asyncio.Task[None]],
) -> None:
    started.append(loop.create_task(coro))


def _starts_directly(loop: asyncio.AbstractEventLoop, context: contextvars.Context) -> bool:
    """Whether the calling thread may create the call's task itself (see _start_directly).

    Only on asgiref's own loops (``LoopThread``: the stdlib selector loop with the scoped
    task factory), outside debug mode (which checks that ``call_soon`` runs on the loop's
    thread), and for a context the factory would record nothing for.
    """
    return (
        type(loop) is _SELECTOR_LOOP
        and loop.get_task_factory() is scoped_task_factory
        and not loop.get_debug()
        and not needs_factory(context)
    )


def _start_directly(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None], context: contextvars.Context
) -> asyncio.Task[None]:
    """Create the call's task from the calling thread, then wake the loop.

    What ``call_soon_threadsafe(_start)`` does, minus one turn of the loop: the task's first
    step is queued (``call_soon``: a deque append, atomic, as ``call_soon_threadsafe``'s own)
    before the loop is woken, so the loop runs it on the turn the wake-up starts, instead of
    running ``_start`` on that turn and the step on the next. Only where _starts_directly.
    """
    # The task runs in a copy of ``context``, as one created by _start inside it would.
    task: asyncio.Task[None] = context.run(asyncio.Task, coro, loop=loop)
    loop._write_to_self()  # type: ignore[attr-defined]
    return task


def _cancel_soon(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, None],
    started: list[asyncio.Task[None]],
    outcome: _Outcome,
) -> None:
    def cancel() -> None:
        # Runs after the task's first step and after _start, if either was queued at all
        # (callbacks run in order). The interruption may have landed after a direct start
        # queued the first step but before ``started`` got the task: the step has recorded
        # it in ``outcome`` by now.
        task = outcome.task or (started[0] if started else None)
        if task is not None:
            task.cancel()
        else:
            coro.close()

    try:
        loop.call_soon_threadsafe(cancel)
    except RuntimeError:
        coro.close()  # the loop is closed: nothing of the call can run any more


class AsyncSingleThreadContext:
    """Context manager: every ``async_to_sync`` call inside it runs on one loop and thread.

    The first call inside the context picks the loop (by the usual rules); later calls reuse
    it even from threads that would otherwise use another. Re-entrant: nested contexts use
    the outermost one's loop.
    """

    def __init__(self) -> None:
        self._chosen: asyncio.AbstractEventLoop | None = None
        self._token: contextvars.Token[AsyncSingleThreadContext | None] | None = None

    def _loop(self) -> asyncio.AbstractEventLoop:
        chosen = self._chosen
        if chosen is None or not chosen.is_running():
            parent = awaiting_loop()
            running = parent is not None and (parent.is_running() or is_handed_off(parent))
            chosen = parent if running else None
            chosen = chosen or shared_loop_thread().loop
            self._chosen = chosen
        return chosen

    def __enter__(self) -> AsyncSingleThreadContext:
        if _single_thread_var.get() is None:
            self._token = _single_thread_var.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _single_thread_var.reset(self._token)
            self._token = None


@overload
def async_to_sync(
    *, force_new_loop: bool = False
) -> Callable[[Callable[_P, Awaitable[_R]]], Callable[_P, _R]]: ...


@overload
def async_to_sync(
    awaitable: Callable[_P, Awaitable[_R]], *, force_new_loop: bool = False
) -> Callable[_P, _R]: ...


def async_to_sync(
    awaitable: Callable[_P, Awaitable[_R]] | None = None, *, force_new_loop: bool = False
) -> Callable[[Callable[_P, Awaitable[_R]]], Callable[_P, _R]] | Callable[_P, _R]:
    """Turn an async callable into a blocking one; usable as a decorator, with or without
    ``(force_new_loop=True)``. The result keeps the callable's parameter types and returns
    what its awaitable produces."""
    if awaitable is None:

        def decorate(f: Callable[_P, Awaitable[_R]]) -> Callable[_P, _R]:
            return AsyncToSync(f, force_new_loop=force_new_loop)

        return decorate
    return AsyncToSync(awaitable, force_new_loop=force_new_loop)
