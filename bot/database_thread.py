"""One thread for SQLite's work, taken in turn, with a lane for what must not wait.

SQLite allows one writer at a time, and its busy handler sleeps (1, 2, 5 ... 100 ms)
between tries without any fairness, so a second writing thread can starve behind a
busy one for hundreds of milliseconds: one thread running every transaction in turn
is faster (as Datasette funnels its writes through one writer). But in turn means
behind everything queued, and the durable inbox's write of a fetched batch holds up
the next poll for updates, so it goes in through `urgent`: ahead of the queue,
behind only the transaction running.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DatabaseThread(ThreadPoolExecutor):
    """An executor of one thread; `urgent` is the same thread, first in the queue.

    A ThreadPoolExecutor by type only, since asyncio takes no other kind as the event
    loop's default executor; its own pool is never started (`submit` is this one's)."""

    def __init__(self, name: str = "database") -> None:
        super().__init__(max_workers=1, thread_name_prefix=name)
        self._jobs: deque[_Job] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()
        self.urgent: Executor = _Urgent(self)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self._put(fn, args, kwargs, first=False)

    def queued(self) -> int:
        """Jobs waiting behind the one running (a metric: bot/channels/metrics.py)."""
        return len(self._jobs)

    def _put(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any],
             *, first: bool) -> Future[T]:  # fmt: skip
        future: Future[T] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            job = (future, fn, args, kwargs)
            if first:
                self._jobs.appendleft(job)
            else:
                self._jobs.append(job)
            self._ready.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._jobs and not self._closed:
                    self._ready.wait()
                if not self._jobs:
                    return
                future, fn, args, kwargs = self._jobs.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:  # handed to whoever waits, as an executor does
                future.set_exception(error)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Run what is queued (or cancel it), then end the thread."""
        with self._ready:
            self._closed = True
            if cancel_futures:
                while self._jobs:
                    self._jobs.popleft()[0].cancel()
            self._ready.notify_all()
        if wait:
            self._thread.join()


class _Urgent(Executor):
    """The same thread, ahead of the queue."""

    def __init__(self, thread: DatabaseThread) -> None:
        self._thread = thread

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self._thread._put(fn, args, kwargs, first=True)
