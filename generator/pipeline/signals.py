"""How a build stops: Ctrl-C, SIGTERM and the death of the main process stop every process it started.

Contract:
* :func:`install_handlers` (the CLI's main process): SIGTERM raises :class:`Terminated`, a
  ``KeyboardInterrupt``, so the same cleanup runs as for Ctrl-C (temporary folders removed, the pool's
  workers killed, the last good site left in place).
* :func:`worker_setup` (first thing in every worker and child process): the worker ignores SIGINT —
  the terminal sends Ctrl-C to the whole process group, and a worker that raised KeyboardInterrupt
  would hand it back as a task result and start the next chunk — and asks the kernel (Linux
  ``PR_SET_PDEATHSIG``) for SIGKILL when its parent dies, so ``kill -9`` of the main process leaves no
  worker computing for minutes. If the parent is already gone, the worker exits at once.
* :func:`kill_pool` ends a ``ProcessPoolExecutor``'s workers now (``shutdown`` alone waits for the
  running tasks, which can take minutes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C."""


def _raise_terminated(signum, frame):
    raise Terminated()


def install_handlers() -> None:
    signal.signal(signal.SIGTERM, _raise_terminated)


def worker_setup(parent_pid: int) -> None:
    """Ignore Ctrl-C, default SIGTERM, die with the parent ``parent_pid`` (see module doc)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the parent's handler
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the request above took effect
        os._exit(1)


def kill_pool(pool) -> None:
    """SIGKILL every worker of a ``concurrent.futures.ProcessPoolExecutor`` (Python 3.11 has no
    public ``terminate_workers``; ``_processes`` is the pool's own table of its workers)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            proc.kill()
        except (OSError, ValueError, AttributeError):
            pass
