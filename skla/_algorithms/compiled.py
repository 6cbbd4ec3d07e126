"""Whether SGD's inner loop runs compiled, and the call that runs it.

With the optional extra ``skla[numba]`` installed, the fast path of
:func:`~skla._algorithms.kernels.squared_window` (squared loss, dense X, one
target, ridge or no penalty) runs its updates in a loop compiled by numba
(:mod:`.compiled_loops`) instead of two BLAS calls per batch: at
``batch_size=1`` the BLAS path spends most of its time in Python, about
5 µs an update.  The results are the same up to rounding.

numba is never imported by ``import skla``, and loading it costs about half
a second in each new process (importing numba and starting its compiler;
compiling, the first time on a machine, about one second more, then cached
on disk).  So it is loaded only when that pays: once the epochs of this
process have asked for :data:`LOAD_AFTER` updates on the fast path (the
coming epoch's included), which the Python loop would run in about the same
time.  A fit at ``batch_size=1`` on 100000 rows loads it at once; a small
fit never does, unless another has already loaded it.

The environment variable ``SKLA_DISABLE_NUMBA=1`` (read at import) or
:data:`ENABLED` set to False keeps the pure Python/BLAS path.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np

__all__ = ["ENABLED", "LOAD_AFTER", "dense_rows", "loops", "squared_updates", "use"]

#: Whether the compiled loops may run (where numba is installed).
ENABLED = os.environ.get("SKLA_DISABLE_NUMBA", "").strip() in ("", "0")

#: Fast-path updates asked for in a process before numba is loaded (0: load
#: on the first epoch).  Loading costs what ~100000 updates cost in Python.
LOAD_AFTER = 100_000

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_EMPTY_ROWS = np.empty(0, dtype=np.intp)
_asked = {"updates": 0}  # fast-path updates asked for before loading numba


@cache
def _load():
    from . import compiled_loops  # imports numba: the first call only

    return compiled_loops if compiled_loops.numba is not None else None


def loops():
    """The compiled loops (:mod:`.compiled_loops`) if loaded, else None.

    None also when :data:`ENABLED` is False or numba is not installed.
    """
    if not ENABLED or not _load.cache_info().currsize:
        return None
    return _load()


def use(n_updates):
    """Whether an epoch of ``n_updates`` fast-path updates runs compiled.

    Loads numba (see the module's notes) once the updates asked for in this
    process reach :data:`LOAD_AFTER`.
    """
    if not ENABLED:
        return False
    if not _load.cache_info().currsize:
        _asked["updates"] += n_updates
        if _asked["updates"] < LOAD_AFTER:
            return False
    return _load() is not None


def dense_rows(X):
    """Whether the compiled loop can read the rows of X in place.

    Then :class:`~.minibatch.MiniBatchSGD` hands it the rows of each window
    instead of a gathered copy.
    """
    return isinstance(X, np.ndarray) and X.dtype in _FLOATS and X.flags.c_contiguous


def squared_updates(engine, Xw, residual, ww, factors, average_from, rows=None):
    """Run the fast path's updates of one window compiled, if possible.

    Parameters
    ----------
    engine : MiniBatchSGD
        Its coefficients, intercept and averages are updated in place; its
        ``runs_compiled`` says whether this epoch runs compiled (see
        :func:`use`).
    Xw : ndarray of shape (n, d)
        The window's rows (dense), or all of X with ``rows``.
    residual : ndarray of shape (n,)
        ``-y`` on entry, the residuals before each update on return.
    ww : ndarray of shape (n,) or None
    factors : tuple
        ``(steps, shrink, intercept_steps, per_coefficient)``, as
        ``kernels.squared_window`` computes them (``intercept_steps`` None
        without an intercept).
    average_from : int
        The first batch whose iterate is averaged.
    rows : ndarray of int or None
        The window's rows of ``Xw``, read in place; None: all of ``Xw``.

    Returns
    -------
    ran : bool
        False, with nothing changed, when the epoch does not run compiled
        or the arrays are not one floating dtype: the caller runs the BLAS
        path.
    """
    module = loops() if getattr(engine, "runs_compiled", False) else None
    dtype = Xw.dtype
    same = engine.coef.dtype == residual.dtype == dtype
    if module is None or dtype not in _FLOATS or not same:
        return False
    steps, shrink, intercept_steps, per_coefficient = factors
    # The loop's scalars are in the window's dtype, as BLAS takes them.
    shrink = np.require(shrink, dtype, ["C", "W"])  # a copy if broadcast
    if shrink.ndim == 1:
        shrink = shrink[:, None]
    if intercept_steps is None:
        intercept_steps = np.empty(0, dtype=dtype)
    coef = np.ascontiguousarray(engine.coef[:, 0])  # a view: coef is (d, 1)
    intercept = np.array(engine.intercept[:1], dtype=dtype)
    average = engine.average
    weights = np.empty(0, dtype=dtype) if ww is None else ww
    count = module.squared_updates(
        _read_only(Xw, dtype),
        _read_only(_EMPTY_ROWS if rows is None else rows, np.intp),
        residual,
        _read_only(weights, dtype),
        coef,
        intercept,
        np.asarray(steps, dtype=dtype),
        shrink,
        np.asarray(intercept_steps, dtype=dtype),
        bool(per_coefficient),
        int(engine.batch_size),
        int(average_from),
        average.coef_sum[:, 0],
        average.intercept_sum[:1],
    )
    average.count += count
    engine.coef[:, 0] = coef
    engine.intercept[0] = intercept[0]
    return True


def _read_only(a, dtype):
    """``a`` as a C-contiguous read-only array of ``dtype`` (a view if it is one).

    The arrays the loop only reads are always typed read-only, whatever the
    caller's flags: one compiled version per dtype, not one per combination.
    """
    a = np.ascontiguousarray(a, dtype=dtype).view()
    a.flags.writeable = False
    return a
