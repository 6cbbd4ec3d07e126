"""Sample weights, weighted column moments by row blocks, and what counts as
rounding noise.

Shared by the preconditioner of mini-batch SGD, the optimality check, the
gradient-descent preconditioner and TruncatedSVDCompressor's variances: each
reads X in blocks of rows, so the only temporary is one block.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis

__all__ = [
    "batch_weights",
    "column_moments",
    "constant_columns",
    "is_rounding_noise",
    "unit_weights",
    "weighted_mean",
]


def unit_weights(weights, m):
    """Weights summing to one (uniform without sample weights, or all zero)."""
    if weights is None or not weights.sum() > 0:
        return np.full(m, 1.0 / max(m, 1))
    return np.asarray(weights, dtype=np.float64) / float(weights.sum())


def batch_weights(weights, m):
    """The weights of a mini-batch of ``m`` rows in its mean loss, ``wᵢ / m``.

    Each sample's term is scaled by its weight, as SGDRegressor scales each
    sample's step: they sum to one only for unit weights.

    Examples
    --------
    >>> import numpy as np
    >>> batch_weights(None, 4), batch_weights(np.array([2.0, 0.0]), 2)
    (array([0.25, 0.25, 0.25, 0.25]), array([1., 0.]))
    """
    return np.full(m, 1.0 / m) if weights is None else weights / m


def weighted_mean(X, sample_weight, *, block_elements=1 << 16):
    """Column means of X, weighted, accumulated in float64, without copying X.

    Float64 X is one pass of element-wise sums.  Float32 X is read in blocks
    of rows converted to float64 (sums of 1e5 float32 terms in float32 are off
    by about 1e-4); sparse float32 X has its non-zeros converted.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    mean : ndarray of shape (n_features,), float64

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)
    >>> weighted_mean(X, np.array([3.0, 1.0]))
    array([1.5, 3. ])
    """
    if sp.issparse(X):
        X = X.astype(np.float64, copy=False)
        if sample_weight is None:
            return np.asarray(X.mean(axis=0)).ravel()
    elif sample_weight is None:
        return X.mean(axis=0, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    total = float(w.sum())
    if sp.issparse(X):
        return np.asarray(safe_sparse_dot(X.T, w), dtype=np.float64).ravel() / total
    # Element-wise sums, not numpy's BLAS: as fast (memory-bound; measured
    # 16 ms against 29 ms for a gemv on 400000×100), and numpy's thread pool
    # stays asleep between the scipy BLAS calls of a fit or a stream.
    if X.dtype == np.float64:
        return np.einsum("i,ij->j", w, X) / total
    rows = max(1, block_elements // max(X.shape[1], 1))
    weighted_sum = np.zeros(X.shape[1])
    for start in range(0, X.shape[0], rows):
        part = slice(start, start + rows)
        weighted_sum += np.einsum("i,ij->j", w[part], X[part].astype(np.float64))
    return weighted_sum / total


def column_moments(X, weights, rows=None, *, pilot=None, block=None, project=None):
    """Weighted mean and variance of each column (``weights`` sum to 1; None:
    every row alike).

    Dense X is read in blocks of ``block`` rows (None: about 2¹⁶ numbers,
    512 KB, a block), each shifted by ``pilot`` (a guess of the mean; the first
    row if None) before squaring, so that the variance of a column with a
    large offset is not lost to cancellation; the only temporary is one
    block.  The sums are ``einsum``'s element-wise loops, no BLAS (a ``gemv``
    per block costs more than the arithmetic; measured on 200000 × 100:
    30 ms, against 45 ms for 256-row blocks and ``gemv``).  Sparse X
    uses scikit-learn's :func:`~sklearn.utils.sparsefuncs.mean_variance_axis`.
    ``project``, a map of dense row blocks (``Xb ↦ Xb V``), gives the moments
    of ``project(X)`` without forming it.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1e8 + 1.0], [1e8 - 1.0]])
    >>> column_moments(X, np.array([0.5, 0.5]))
    (array([1.e+08]), array([1.]))
    >>> import scipy.sparse as sp
    >>> X = sp.csr_matrix(np.array([[1.0], [0.0], [4.0]], dtype=np.float32))
    >>> column_moments(X, np.array([0.5, 0.25, 0.25]))
    (array([1.5]), array([2.25]))
    """
    if rows is not None and sp.issparse(X):
        X, rows = X[rows], None
    if sp.issparse(X):
        # scikit-learn's kernel takes weights of X's own type only (float64
        # weights stopped it on float32 X); it sums in float64 either way.
        if weights is not None:
            weights = np.asarray(weights).astype(X.dtype, copy=False)
        mean, var = mean_variance_axis(sp.csr_matrix(X), axis=0, weights=weights)
        return np.asarray(mean, dtype=np.float64), np.asarray(var, dtype=np.float64)
    n = X.shape[0] if rows is None else len(rows)
    if block is None:
        block = max(1, (1 << 16) // max(X.shape[1], 1))
    buffer = None  # one block, reused
    for start in range(0, n, block):
        part = slice(start, start + block)
        Xb = X[part] if rows is None else X[rows[part]]
        Xb = Xb if project is None else project(Xb)
        if buffer is None:
            buffer = np.empty((min(block, n), Xb.shape[1]))
            shifted, second = np.zeros(Xb.shape[1]), np.zeros(Xb.shape[1])
            if pilot is None:
                pilot = np.asarray(Xb[0], dtype=np.float64)
        Db = np.subtract(Xb, pilot, out=buffer[: Xb.shape[0]])
        if weights is None:
            shifted += np.einsum("ij->j", Db)
            second += np.einsum("ij,ij->j", Db, Db)
        else:
            v = weights[part]
            shifted += np.einsum("i,ij->j", v, Db)
            second += np.einsum("i,ij->j", v, np.square(Db, out=Db))
    if weights is None:
        shifted, second = shifted / n, second / n
    return pilot + shifted, np.maximum(second - shifted**2, 0.0)


def is_rounding_noise(variance, mean, dtype):
    """Whether a column's variance is only rounding noise around its mean.

    A spread of a few units in the last place of the mean is what rounding
    leaves of a constant column (e.g. 1e6 in float32, where one unit is
    0.06); dividing by it would turn that noise into a coefficient.  A real
    spread of 1 around 1e6 in float32 (16 units) is kept.

    Examples
    --------
    >>> import numpy as np
    >>> is_rounding_noise(np.array([0.0, 1e-20, 1.0]), np.array([1e6] * 3), np.float32)
    array([ True,  True, False])
    """
    resolution = 4 * np.finfo(dtype).eps * np.abs(mean)
    return np.asarray(variance) <= resolution**2


def constant_columns(X, offset, variance):
    """Columns of X that are constant up to rounding noise.

    Without centring (``offset`` None), the all-zero columns (``variance``
    0).  With centring, a column is constant when its values span at most
    4 units in the last place of its mean (as :func:`is_rounding_noise`).
    The centred ``variance`` cannot tell on its own: the mean itself is off
    by up to ``n·eps`` of its size (summed row after row), and a constant
    column centred by it keeps that error as a spread-free offset; sparse
    variances are a raw sum minus a large centring term, off by up to
    ``n·eps·offset²``.  So the columns whose variance is within that error
    are checked on their range ``max - min``, which has no cancellation
    (one strided read of each).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> X = np.array([[1.1, 0.0], [1.1, 2.0]])
    >>> constant_columns(X, np.array([1.1, 1.0]), np.array([1e-30, 1.0]))
    array([ True, False])
    >>> constant_columns(sp.csr_matrix(X), np.array([1.1, 1.0]), np.array([1e-16, 1.0]))
    array([ True, False])
    """
    variance = np.asarray(variance, dtype=np.float64)
    if offset is None:
        return variance == 0
    eps = np.finfo(X.dtype).eps
    resolution = 4 * eps * np.abs(offset)
    # Within the error of a raw sum of n squares (n·eps of offset², which
    # also covers the centred error (n·eps·offset)²): worth a look.
    suspects = np.flatnonzero(variance <= 4 * X.shape[0] * eps * offset**2)
    constant = np.zeros(len(variance), dtype=bool)
    if suspects.size == 0:
        return constant
    columns = X[:, suspects]
    if sp.issparse(columns):
        low, high = min_max_axis(sp.csc_matrix(columns), axis=0)
    else:
        low, high = columns.min(axis=0), columns.max(axis=0)
    spread = np.asarray(high, dtype=np.float64) - np.asarray(low, dtype=np.float64)
    constant[suspects] = spread <= resolution[suspects]
    return constant
