"""One power of two to keep extreme data away from overflow and underflow.

Squares and products of numbers near 1e160 overflow and of numbers near
1e-160 go subnormal, long before the numbers themselves do.  Multiplying the
data by a power of two ``c`` (so that its largest entry is about 1), solving,
and dividing the results by ``c`` is exact in floating point: every scaled
number keeps its mantissa.  One scale for the whole matrix -- not one per
column -- so that minimum-norm and rank-revealing answers are unchanged.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["max_abs", "power_of_two_scale", "retry_at_full_scale"]

# Within these bounds the data are left alone (no copy): products of a few
# thousand terms of this size neither overflow nor go subnormal.
_LOW, _HIGH = 2.0**-200, 2.0**200


def max_abs(X) -> float:
    """``max |X|`` for dense or sparse X, without a temporary the size of X.

    Examples
    --------
    >>> import numpy as np
    >>> max_abs(np.array([[1.0, -3.0], [2.0, 0.5]]))
    3.0
    """
    data = X.data if sp.issparse(X) else X
    if data.size == 0:
        return 0.0
    return float(max(abs(np.max(data)), abs(np.min(data))))


def _rows_sample(X, n_rows=4096):
    """Every k-th row of dense X, about ``n_rows`` of them (a view, no copy)."""
    if sp.issparse(X) or X.shape[0] <= n_rows:
        return X
    return X[:: -(-X.shape[0] // n_rows)]


def power_of_two_scale(X, *, low=_LOW, high=_HIGH, sample=True) -> float:
    """A power of two ``c`` with ``c · max|X|`` in [0.5, 1), or 1.0 if not needed.

    Whether it is needed is read off a strided sample of about 4096 rows
    (``sample=False`` reads every entry): an extreme entry in another row is
    caught by the caller, whose numerics then overflow, and who asks again
    with ``sample=False`` (:func:`retry_at_full_scale`).

    Parameters
    ----------
    X : {ndarray, sparse matrix}
    low, high : float
        ``max|X|`` within ``[low, high]`` needs no scaling: 1.0 is returned.

    Examples
    --------
    >>> import numpy as np
    >>> float(np.log2(power_of_two_scale(np.array([3.0e160]))))
    -534.0
    >>> power_of_two_scale(np.array([3.0]))
    1.0
    """
    info = np.finfo(X.dtype) if np.issubdtype(X.dtype, np.floating) else None
    if (
        info is not None
        and low <= float(info.smallest_subnormal)
        and float(info.max) <= high
    ):
        # float32: no entry reaches these (float64) bounds, so the data are
        # never rescaled, as before this shortcut; the float32 numerics must
        # take care of squares beyond 1e±38 themselves (the SVD does).
        return 1.0
    # A strided sample of rows decides cheaply (a full pass over a 160 MB X
    # costs 17 ms, as much as a fit); only extreme data are read in full.
    largest = max_abs(_rows_sample(X) if sample else X)
    if sample and low <= largest <= high:
        return 1.0
    largest = max_abs(X)
    if largest == 0 or not np.isfinite(largest) or low <= largest <= high:
        return 1.0
    _, exponent = np.frexp(largest)
    return float(np.ldexp(1.0, -int(exponent)))


def retry_at_full_scale(fit, X, scale, errors):
    """``fit(scale)``; if it fails with ``errors`` because an extreme entry
    hid from the sampled scale, ``fit`` again at the scale of every entry.

    The common case costs nothing more; a rare extreme row costs one pass.
    """
    try:
        return fit(scale)
    except errors:
        full = power_of_two_scale(X, sample=False)
        if full == scale:
            raise
        return fit(full)
