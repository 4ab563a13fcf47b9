"""The one-shot waiter a request's caller sleeps on, for the running backend.

Every query that waits for the driver's reader task makes one of these and
the reader sets it. ``anyio.Event`` would do, but costs more than the rest
of the wake-up: on asyncio it wraps an ``asyncio.Event`` (a deque of futures,
and a loop lookup per wait), on trio a ``trio.Event`` (a ``ParkingLot`` with
an ordered dict). A waiter here is a future on asyncio and a parked task on
trio: the same semantics (``set()`` wakes every waiting task; ``wait()`` is a
checkpoint and can be cancelled), for less.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import anyio.lowlevel

__all__ = [
    "Waiter",
    "cancel_check_for_backend",
    "read_own_checkpoint",
    "request_cancel_check",
    "waiter_factory",
]


class Waiter(Protocol):
    def is_set(self) -> bool: ...
    def set(self) -> None: ...
    async def wait(self) -> None: ...


class AsyncioWaiter:
    """A waiter on asyncio: a future per waiting task."""

    __slots__ = ("_flag", "_futures", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._futures: list[asyncio.Future[None]] = []
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        if not self._flag:
            self._flag = True
            for future in self._futures:
                if not future.done():
                    future.set_result(None)
            self._futures.clear()

    async def wait(self) -> None:
        if self._flag:
            await anyio.lowlevel.checkpoint()
            return
        # One future per task: cancelling a task cancels the future it awaits.
        future = self._loop.create_future()
        futures = self._futures
        futures.append(future)
        try:
            await future
        except BaseException:
            if future in futures:
                futures.remove(future)
            raise


def _trio_waiter() -> Callable[[], Any]:
    import trio.lowlevel

    current_task = trio.lowlevel.current_task
    reschedule = trio.lowlevel.reschedule
    wait_task_rescheduled = trio.lowlevel.wait_task_rescheduled
    checkpoint = trio.lowlevel.checkpoint
    succeeded = trio.lowlevel.Abort.SUCCEEDED

    class TrioWaiter:
        """A waiter on trio: the waiting tasks, parked."""

        __slots__ = ("_flag", "_tasks")

        def __init__(self) -> None:
            self._flag = False
            self._tasks: list[trio.lowlevel.Task] = []

        def is_set(self) -> bool:
            return self._flag

        def set(self) -> None:
            if not self._flag:
                self._flag = True
                tasks = self._tasks
                for task in tasks:
                    reschedule(task)
                tasks.clear()

        async def wait(self) -> None:
            if self._flag:
                await checkpoint()
                return
            task = current_task()
            tasks = self._tasks
            tasks.append(task)

            def abort(_: object) -> trio.lowlevel.Abort:
                tasks.remove(task)
                return succeeded

            await wait_task_rescheduled(abort)

    return TrioWaiter


def waiter_factory() -> Callable[[], Waiter]:
    """What makes a :class:`Waiter` for the backend that runs now."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        factory: Callable[[], Waiter] = _trio_waiter()
        return factory
    return lambda: AsyncioWaiter(loop)


def cancel_check_for_backend() -> tuple[Callable[[], bool], Callable[[], Awaitable[None]]]:
    """``(cancel_called, checkpoint_if_cancelled)`` for the backend that runs now.

    ``checkpoint_if_cancelled()`` raises the cancellation if the calling
    task's cancel scope is cancelled, and otherwise returns at once without
    letting other tasks run. ``cancel_called()`` says without an await
    whether it is worth calling (``True`` may be a false alarm; ``False``
    never is). Both are made once per connection or stream (anyio looks the
    backend up on every call, which costs more than the check itself): a
    row stream asks ``cancel_called()`` before every row, and every request
    checks before it is sent (see :func:`request_cancel_check`).

    ``cancel_called`` reads the scheduler's own record of the task's
    cancellation, which neither trio nor anyio offers publicly: on trio the
    task's cancel status (what ``trio.lowlevel.checkpoint_if_cancelled``
    tests), on asyncio anyio's cancel scopes of the task. If they are not
    what it expects (another version), it answers ``True``: ask the backend.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        import trio.lowlevel

        return _trio_cancel_called(), trio.lowlevel.checkpoint_if_cancelled
    return _asyncio_cancel_called(loop), anyio.lowlevel.checkpoint_if_cancelled


def read_own_checkpoint() -> Callable[[], Awaitable[None]]:
    """What a caller that reads its own result awaits first, to make that a checkpoint.

    Reading the socket is a schedule point on trio (its receive yields before
    it reads), not on asyncio when the data is already buffered (a row
    stream's batch requested ahead): there it is anyio's full checkpoint, on
    trio only the cancel point.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        import trio.lowlevel

        return trio.lowlevel.checkpoint_if_cancelled
    return anyio.lowlevel.checkpoint


def request_cancel_check() -> tuple[Callable[[], bool] | None, Callable[[], Awaitable[None]]]:
    """``(maybe_cancelled, checkpoint_if_cancelled)`` for what checks before a request is sent.

    Await ``checkpoint_if_cancelled()`` when ``maybe_cancelled`` is ``None``
    or ``maybe_cancelled()`` is true. On trio it is ``None``: trio's own
    check is cheap (0.15 us) and counts as the call's cancel point. On asyncio it is
    :func:`cancel_check_for_backend`'s ``cancel_called`` (about 0.2 us),
    which spares anyio's check (about 1 us, a tenth of a pipelined query)
    when nothing is cancelled.
    """
    cancel_called, checkpoint_if_cancelled = cancel_check_for_backend()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None, checkpoint_if_cancelled
    return cancel_called, checkpoint_if_cancelled


def _ask_the_backend() -> bool:
    # The answer when the scheduler's record is not what we know: always
    # await the backend's own (public) checkpoint_if_cancelled.
    return True


def _trio_cancel_called() -> Callable[[], bool]:
    import trio.lowlevel

    current_task = trio.lowlevel.current_task
    # What current_task() reads (a thread-local), read directly: the check
    # costs a quarter less (a row stream makes it once per row).
    run_context: Any = getattr(current_task, "__globals__", {}).get("GLOBAL_RUN_CONTEXT")

    def cancel_called() -> bool:
        # What trio.lowlevel.checkpoint_if_cancelled() tests, without its await.
        # Public trio answers this only as current_effective_deadline() == -inf,
        # ten times slower.
        return run_context.task._cancel_status.effectively_cancelled  # type: ignore[no-any-return]

    try:
        if run_context.task is current_task() and type(cancel_called()) is bool:
            return cancel_called
    except AttributeError:  # pragma: no cover - another trio
        pass
    return _ask_the_backend  # pragma: no cover - another trio


def _asyncio_cancel_called(loop: asyncio.AbstractEventLoop) -> Callable[[], bool]:
    try:
        from anyio._backends._asyncio import _task_states
    except ImportError:  # pragma: no cover - another anyio
        return _ask_the_backend
    states: Any = _task_states
    # asyncio's own table of running tasks, read directly where it exists
    # (Python 3.11's current_task() is a Python function around it).
    # Trusted only if it names the task running now (newer Pythons keep it elsewhere).
    running: Any = getattr(asyncio.tasks, "_current_tasks", None)
    get_task: Callable[[Any], object] = asyncio.current_task  # (called with the loop)
    if isinstance(running, dict) and running.get(loop) is asyncio.current_task(loop) is not None:
        get_task = running.get
    # The task that checks is nearly always the same: keep its anyio state.
    last_task: object = None
    last_state: Any = None

    def cancel_called() -> bool:
        nonlocal last_task, last_state
        task = get_task(loop)
        if task is last_task:
            state = last_state
        else:
            state = states.get(task)
            if state is None:
                return False  # no cancel scope in this task
            last_task, last_state = task, state  # (a task keeps its state until it ends)
        try:
            # What anyio's CancelScope._effectively_cancelled walks, inlined:
            # its public cancel_called and shield are properties, and calling
            # them (or that one) makes this check three times slower.
            scope = state.cancel_scope
            while scope is not None:
                if scope._cancel_called:
                    return True
                if scope._shield:
                    return False
                scope = scope._parent_scope
        except AttributeError:  # pragma: no cover - another anyio: ask it
            return True
        return False

    return cancel_called
