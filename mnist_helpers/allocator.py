"""Keep freed memory in the process, so a CPU training loop stops page-faulting.

Each training step allocates the same large activation and gradient buffers and
frees them again. glibc's ``malloc`` hands blocks this large back to the
operating system (``mmap``/``munmap`` and heap trimming), so the next step
touches fresh pages and pays a page fault for every 4 KiB. Raising the mmap and
trim thresholds with ``mallopt`` keeps those blocks for reuse. PyTorch's CPU
performance guide makes the same point with jemalloc or tcmalloc; this needs no
extra library. It changes speed, not results.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(mmap_threshold: int = 32 * 2**20, trim_threshold: int = 2**30) -> bool:
    """Raise glibc's mmap threshold (32 MiB is its 64-bit maximum) and trim threshold, in bytes.

    Returns whether it applied.

    On anything other than Linux with glibc it does nothing and returns False.
    """
    if mmap_threshold <= 0 or trim_threshold <= 0:
        raise ValueError(f"thresholds must be positive, got {mmap_threshold} and {trim_threshold}")
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return False  # e.g. musl
    ok = libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(min(mmap_threshold, 2**31 - 1)))
    ok &= libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(min(trim_threshold, 2**31 - 1)))
    return bool(ok)
