"""Output buffers for very large runs, kept for the next run once their Run is gone.

A million paths of 100 steps are 2.4 GB of fresh output. Fresh memory costs more than
the arithmetic on this kind of machine: every page is faulted in and zeroed by the
kernel, and in a virtual machine the host may fault it in again (Adam, 1M starts x 100
steps, run after run in one process, benchmarks.engine's workload: about 1.5x faster
with outputs whose pages were already touched, the kernel's share of the CPU time about
a quarter of what it is with fresh ones). So an output array of at least ``MIN_BYTES``
is taken from a buffer that a discarded Run used, when one of the same size is idle.

Safety: a buffer is idle only when nothing but this pool refers to it. Every view of an
array that owns its memory (``run.path``, ``run.path[0]``, a slice of that, ...) holds a
reference to that array, so while any of them is alive the buffer is in use and is
never handed out again (CPython reference counts; a test checks it).

Memory: the pool keeps at most ``MAX_BYTES`` of buffers in all (in use or idle), and a
large run that finds no idle buffer of its size lets the idle ones go first, so a
process holds at most one discarded large run's outputs more than it would otherwise.
``OPTVIZ_BUFFER_POOL_MB=0`` turns the pool off; :func:`release` frees the idle buffers
now. Page-sized runs (every web request) are far below ``MIN_BYTES`` and never use it.
"""
from __future__ import annotations

import os
import sys
import threading

import numpy as np

__all__ = ["empty", "release", "MIN_BYTES", "MAX_BYTES"]

#: arrays smaller than this (bytes) are plain np.empty
MIN_BYTES = 64 * 2**20
#: idle bytes the pool may keep (OPTVIZ_BUFFER_POOL_MB; default 4096, 0 turns it off)
MAX_BYTES = int(float(os.environ.get("OPTVIZ_BUFFER_POOL_MB", 4096)) * 2**20)

_lock = threading.Lock()
_buffers: list[np.ndarray] = []      # flat float64 arrays, in use or idle


def _refs(buf: np.ndarray) -> int:
    return sys.getrefcount(buf)


def _idle_refs() -> int:
    """References an idle buffer has as seen from :func:`_idle`: the pool's list, the
    loop variable and getrefcount's argument (measured, not assumed)."""
    probe = [np.empty(1)]
    for buf in probe:
        return _refs(buf)
    raise AssertionError


_IDLE = _idle_refs()


def empty(shape: tuple[int, ...]) -> np.ndarray:
    """``np.empty(shape)`` (float64), from an idle pooled buffer when it is large."""
    size = 1
    for n in shape:
        size *= int(n)
    nbytes = size * 8
    if nbytes < MIN_BYTES or MAX_BYTES <= 0:
        return np.empty(shape)
    with _lock:
        idle = [buf for buf in _buffers if _refs(buf) == _IDLE]
        same = [buf for buf in idle if buf.size == size]
        if same:
            return same[0].reshape(shape)
        # none idle of this size: let the idle ones go, and keep the new one for next
        # time if everything kept (in use or not) stays within MAX_BYTES
        _buffers[:] = [buf for buf in _buffers if _refs(buf) != _IDLE]
        del idle
        out = np.empty(size)
        if sum(buf.nbytes for buf in _buffers) + nbytes <= MAX_BYTES:
            _buffers.append(out)
        return out.reshape(shape)


def release() -> None:
    """Free the idle buffers now (those in use stay with their Runs)."""
    with _lock:
        _buffers[:] = [buf for buf in _buffers if _refs(buf) != _IDLE]
