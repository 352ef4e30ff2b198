"""Keep freed memory in the process: large NumPy temporaries must not cost a page fault per 4 KiB.

Why: glibc serves allocations above its mmap threshold (128 KiB at start, raised adaptively up to
32 MiB) with fresh ``mmap`` pages and returns freed heap tops to the kernel above ``M_TRIM_THRESHOLD``.
The propagation engine allocates 4 MB arrays (1000 x 500 float64) many times per layer, so each one
paid ~1000 page faults: ``np.exp`` of a fresh 1000 x 500 array took 4.8 ms against 0.4 ms with the
memory kept (measured on the 2-core build machine, ``make bench`` notes in README "Speed").
:func:`keep_freed_memory` raises both thresholds once per process; memory freed by NumPy is then reused
instead of being unmapped. Peak RSS is unchanged in kind (the same arrays are live at the peak); only
the release back to the kernel is deferred. No-op where ``mallopt`` does not exist (non-glibc).
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_done = False


def keep_freed_memory(mmap_threshold: int = 256 << 20, trim_threshold: int = 1 << 30) -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True if applied (idempotent)."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    _done = bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))
    return _done
