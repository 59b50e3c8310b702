"""How many threads the numeric libraries and the detectors use.

Two kinds of parallelism, never both at once:

- a scan runs one worker *process* per core, each analysing one file at a time on one
  thread (:func:`limit_numeric_threads`);
- a single analysis in this process (``triage analyze``, ``triage eval``, the benchmarks) runs
  the independent image detectors side by side on threads (:func:`detector_threads`), with the
  BLAS and OpenCV pools held at one thread meanwhile (:func:`numeric_threads`).

Measured on the 2-core machine: OpenBLAS and OpenCV pools of two threads each cost twice the
CPU and 1.4x the wall time of one thread on the small arrays our detectors pass them (200
small files in one process: 0.21 against 0.10 CPU-s and 0.12 against 0.09 s wall per file):
their threads spin-wait more than they compute. Running whole detectors in parallel is what
pays (one 1 MP photo: see benchmarks/README.md).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

__all__ = ["THREAD_VARS", "limit_numeric_threads", "numeric_threads", "detector_threads"]

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: At most this many detectors at once in one analysis: each image detector holds a few
#: full-size float copies of the picture, so memory grows with every thread (a cap chosen, not
#: measured: only 2 cores were at hand).
MAX_DETECTOR_THREADS = 4


def limit_numeric_threads(n: int = 1) -> None:
    """Make the numeric libraries of this process use ``n`` threads each, for good.

    For a scan worker. The environment variables alone are not enough: a spawned worker has
    already imported numpy (and with it OpenBLAS, which reads them once, at load) before its
    main function runs, and OpenCV bundles a second OpenBLAS and a pool of its own. So: the
    variables for libraries loaded later (torch reads ``OMP_NUM_THREADS``), threadpoolctl for
    the BLAS/OpenMP pools already loaded, and OpenCV's and torch's own setters.
    """
    for var in THREAD_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    _set_cv2_threads(n)
    _set_torch_threads(n)


@contextlib.contextmanager
def numeric_threads(n: int = 1) -> Iterator[None]:
    """Hold the BLAS/OpenMP and OpenCV pools at ``n`` threads inside the block, then restore
    them."""
    try:
        from threadpoolctl import threadpool_limits
        limiter: contextlib.AbstractContextManager = threadpool_limits(n)
    except ImportError:  # pragma: no cover
        limiter = contextlib.nullcontext()
    cv2_before = _set_cv2_threads(n)
    torch_before = _set_torch_threads(n)
    try:
        with limiter:
            yield
    finally:
        if cv2_before is not None:
            _set_cv2_threads(cv2_before)
        if torch_before is not None:
            _set_torch_threads(torch_before)


def detector_threads(setting: int = 0) -> int:
    """Threads for the detectors of one analysis: ``setting`` when > 0, else one per core (at
    most :data:`MAX_DETECTOR_THREADS`); 1 inside a scan worker (the workers are the
    parallelism there, see ``TRIAGE_SCAN_WORKER``)."""
    if os.environ.get("TRIAGE_SCAN_WORKER"):
        return 1
    if setting > 0:
        return int(setting)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_DETECTOR_THREADS, cores))


def _set_cv2_threads(n: int) -> int | None:
    """Set OpenCV's pool to ``n`` threads; the previous count (None without OpenCV)."""
    try:
        import cv2
    except ImportError:  # pragma: no cover
        return None
    before = cv2.getNumThreads()
    cv2.setNumThreads(n)
    return before


def _set_torch_threads(n: int) -> int | None:
    """Set torch's intra-op pool to ``n`` threads if torch is loaded (never import it here:
    it loads only when a learned detector first runs); the previous count, or None."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    return before
