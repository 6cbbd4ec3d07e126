"""The compiled inner loops of mini-batch SGD (numba), one row at a time.

The loops read a window of rows and apply the same updates, in the same
order, as the BLAS path of :mod:`.kernels`: the compiled loop wins at small
batches, where the BLAS path pays a Python-level cost of several
microseconds per update (two ``gemv`` calls and their argument checks).

This module imports numba, which ``import skla`` must not: only
:mod:`.compiled` imports it, once SGD's epochs are long enough to pay
for it.  Without
numba the functions stay plain Python (importable, e.g. by the doctests,
but far too slow to run), and :mod:`.compiled` does not use them.

Every function is compiled on its first call for each set of argument
types and cached on disk (``cache=True``): next to this file where it is
writable, else in numba's per-user cache directory (``NUMBA_CACHE_DIR``
sets another), and uncached where neither can be written.
"""

from __future__ import annotations

from types import ModuleType

numba: ModuleType | None
try:
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

__all__ = ["numba", "squared_updates"]


def _compiled(function):
    """``numba.njit`` the function, cached on disk where a cache can be written.

    ``reassoc`` lets the compiler split a sum (the dot products, ``Σ g``) into
    vector lanes, as BLAS does: twice as fast, still deterministic on a
    machine, and NaN and inf propagate (no other fast-math flag), which the
    divergence check relies on.  ``nogil``: other threads (dask's, a user's)
    run while a window updates.
    """
    if numba is None:
        return function
    options = {"nogil": True, "fastmath": {"reassoc"}}
    try:
        return numba.njit(cache=True, **options)(function)
    except RuntimeError:  # "cannot cache function": no writable cache directory
        return numba.njit(cache=False, **options)(function)


@_compiled
def squared_updates(
    X,
    rows,
    residual,
    weights,
    coef,
    intercept,
    steps,
    shrink,
    intercept_steps,
    per_coefficient,
    batch_size,
    average_from,
    coef_sum,
    intercept_sum,
):
    """The squared loss's updates over one window (see ``kernels.squared_window``).

    Batch ``j`` is rows ``j·B`` to ``(j+1)·B`` of the window.  Every array
    but the averages is in the window's dtype, and so is the arithmetic
    (the forward pass accumulates ``x_i·β`` in it, as ``gemv`` does); the
    averages are float64, as :class:`~.averaging.IterateAverage` keeps them.

    Parameters
    ----------
    X : ndarray, C-contiguous
        The window's rows (n, d), or all of X when ``rows`` is given.
    rows : ndarray of shape (n,) or (0,)
        The window's rows of X, read in place (no gathered copy of the
        window); empty when X is the window itself.
    residual : ndarray of shape (n,)
        ``-y`` on entry; on return ``x_iᵀβ + b - y_i`` at the coefficients
        before the update that used row ``i`` (for the window's loss).
    weights : ndarray of shape (n,) or (0,)
        Sample weights; empty for none.
    coef : ndarray of shape (d,)
        The coefficients, updated in place.
    intercept : ndarray of shape (1,)
        The intercept, updated in place.
    steps : ndarray of shape (n_batches,)
        The factor of a batch's gradient ``Xᵀg``: ``-η c / |batch|`` with a
        scalar shrinkage ``c``, ``-η / |batch|`` with a per-coefficient one.
    shrink : ndarray of shape (n_batches, 1) or (n_batches, d)
        The ridge's shrinkage of each batch (ones without a penalty).
    intercept_steps : ndarray of shape (n_batches,) or (0,)
        ``η / |batch|``; empty without an intercept.
    per_coefficient : bool
        Whether ``shrink`` has one factor per coefficient, applied after the
        gradient step (``β ← (β + step·Xᵀg) ⊙ c``), rather than one, applied
        before (``β ← c β + step·Xᵀg``).
    batch_size : int
    average_from : int
        Index of the first batch whose iterate is added to the averages.
    coef_sum : ndarray of shape (d,), float64
    intercept_sum : ndarray of shape (1,), float64
        The averages' running sums, updated in place.

    Returns
    -------
    count : int
        The number of iterates added to the sums.
    """
    n, d = residual.shape[0], X.shape[1]
    direct = rows.shape[0] > 0
    weighted = weights.shape[0] > 0
    fit_intercept = intercept_steps.shape[0] > 0
    b = intercept[0]
    count = 0
    for j in range(steps.shape[0]):
        start = j * batch_size
        stop = min(start + batch_size, n)
        # The forward pass: every residual of the batch at the old β.
        for i in range(start, stop):
            row = rows[i] if direct else i
            acc = residual[i]
            if fit_intercept:
                acc += b
            for k in range(d):
                acc += X[row, k] * coef[k]
            residual[i] = acc
        if not per_coefficient and shrink[j, 0] != 1:
            c = shrink[j, 0]
            for k in range(d):
                coef[k] *= c
        step = steps[j]
        total = residual[start] * 0  # Σ g_i, in the window's dtype
        for i in range(start, stop):
            row = rows[i] if direct else i
            g = residual[i] * weights[i] if weighted else residual[i]
            total += g
            a = step * g
            for k in range(d):
                coef[k] += a * X[row, k]
        if per_coefficient:
            for k in range(d):
                coef[k] *= shrink[j, k]
        if fit_intercept:
            b -= intercept_steps[j] * total
        if j >= average_from:
            for k in range(d):
                coef_sum[k] += coef[k]
            intercept_sum[0] += b
            count += 1
    intercept[0] = b
    return count
