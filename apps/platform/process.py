"""Process hygiene every app process needs: a worker never outlives the process that started it."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Make this worker die if the process that started it dies, even by SIGKILL.

    uvicorn's worker processes would otherwise outlive a killed master and keep serving, which
    would make a crash test meaningless and leave orphans behind.
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os.kill(os.getpid(), signal.SIGKILL)
