"""Independent simulations in worker processes that never outlive the caller.

Workers ignore SIGINT (Ctrl-C reaches the parent, which stops them), carry a parent-death signal
(a SIGKILLed parent takes them down), and are terminated, not waited for, when the caller is
interrupted or fails: a half-finished study leaves no process behind.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):  # Linux only; elsewhere the terminate() below still holds
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


Progress = Callable[[int, int], None]  # (items done, items in this map)
_listeners: list[Progress] = []


@contextlib.contextmanager
def reporting(listener: Progress) -> Iterator[None]:
    """Tell `listener` how far each `parallel_map` of this process has got while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def _done(done: int, total: int) -> None:
    for listener in _listeners:
        listener(done, total)


def _indexed(job: tuple[int, Callable[[T], R], T]) -> tuple[int, R]:
    index, fn, item = job
    return index, fn(item)


def parallel_map(fn: Callable[[T], R], items: Iterable[T], processes: int | None = None) -> list[R]:
    """`[fn(item) for item in items]`, in up to `processes` spawned workers (default: one per core);
    in this process when one worker would do. `fn` must be a module-level function."""
    work = list(items)
    workers = max(1, min(processes or os.cpu_count() or 1, len(work)))
    _done(0, len(work))
    if workers == 1:
        results: list[R] = []
        for item in work:
            results.append(fn(item))
            _done(len(results), len(work))
        return results
    pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_init)
    try:
        found: dict[int, R] = {}
        for index, result in pool.imap_unordered(_indexed, [(i, fn, item) for i, item
                                                            in enumerate(work)], chunksize=1):
            found[index] = result
            _done(len(found), len(work))
        results = [found[i] for i in range(len(work))]
    except BaseException:
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()
    return results
