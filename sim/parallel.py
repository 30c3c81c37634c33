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
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):  # Linux only; elsewhere the terminate() below still holds
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def parallel_map(fn: Callable[[T], R], items: Iterable[T], processes: int | None = None) -> list[R]:
    """`[fn(item) for item in items]`, in up to `processes` spawned workers (default: one per core);
    in this process when one worker would do. `fn` must be a module-level function."""
    work = list(items)
    workers = max(1, min(processes or os.cpu_count() or 1, len(work)))
    if workers == 1:
        return [fn(item) for item in work]
    pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_init)
    try:
        results = pool.map(fn, work, chunksize=1)
    except BaseException:
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()
    return results
