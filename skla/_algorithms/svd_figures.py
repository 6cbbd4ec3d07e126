"""What a truncated SVD keeps of X: variances, energy and reconstruction error.

Computed in float64 by blocks of rows: the only temporary is one block, never
a centred or residual copy of X.
"""

from __future__ import annotations

from numbers import Integral
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot, svd_flip

from .._data import column_moments
from ._linalg import dot, sum_of_squares
from .svd import energy_rank

__all__ = [
    "ExactSVD",
    "Figures",
    "SquareSums",
    "column_variances",
    "combined_figures",
    "coordinate_moments",
    "coordinates",
    "coordinates_for_figures",
    "exact_svd_figures",
    "figures",
    "projection_error",
    "square_sums",
    "total_variance",
]

# ‖X‖² − ‖XV‖² is exact to about eps·‖X‖²: it is trusted for a lost share of
# the energy above this; below, the residual itself is summed (one more pass).
_CANCELLATION = 1e-6


def column_variances(X, *, block=256):
    """``np.var(X, axis=0)`` in float64, by blocks of ``block`` rows.

    ``np.var`` makes a centred temporary as large as X (a 12-megapixel photo:
    48 MB); this keeps one block of rows at a time.

    Examples
    --------
    >>> import numpy as np
    >>> column_variances(np.array([[1.0, 10.0], [3.0, 10.0]]))
    array([1., 0.])
    """
    return column_moments(X, None, block=block)[1]


def total_variance(X, *, block=256):
    """``np.var(X, axis=0).sum()`` in float64, by blocks of ``block`` rows.

    Examples
    --------
    >>> import numpy as np
    >>> total_variance(np.array([[1.0, 10.0], [3.0, 10.0]]))
    1.0
    """
    return float(column_variances(X, block=block).sum())


class SquareSums(NamedTuple):
    """``‖X‖_F²`` and the total variance ``Σ_j var(X_j)``, float64."""

    total: float
    total_variance: float


def square_sums(X, *, block_elements=None):
    """``‖X‖_F²`` and the total variance of X in one pass, float64.

    Dense C-ordered X: by blocks of about ``block_elements`` rows' numbers
    (default 2²⁰, a block stays in the cache), ``‖X‖²`` and the column sums
    on numpy's BLAS (``dot`` and ``gemv``, the pool of the Lanczos products
    that follow; a float32 block is converted to float64 first, so every
    square is exact), and ``Σ var_j = ‖X‖²/m − ‖mean‖²``: 6 to 7 ms on a
    3024 × 4032 photo, where the element-wise route below took 17 to 19.
    That difference cancels where the means dominate the spread: if the
    variances are below 1/64 of the mean squares, or for other layouts, the
    unweighted :func:`~skla._data.column_moments` is taken instead (blocks
    of 2¹⁶ numbers shifted by the first row before squaring, no BLAS).
    Sparse X takes :func:`sum_of_squares` and :func:`total_variance`.

    Examples
    --------
    >>> import numpy as np
    >>> square_sums(np.array([[1.0, 10.0], [3.0, 10.0]]), block_elements=2)
    SquareSums(total=210.0, total_variance=1.0)
    """
    if sp.issparse(X) or X.shape[0] == 0:
        return SquareSums(sum_of_squares(X), total_variance(X))
    m, n = X.shape
    if X.flags.c_contiguous and X.dtype in (np.float32, np.float64):
        rows = max(1, (block_elements or 1 << 20) // max(n, 1))
        total, sums = _blas_square_sums(X, rows)
        mean_square = float(sums @ sums) / m**2
        spread = total / m - mean_square
        if not np.isfinite(total) or spread >= mean_square / 64:
            return SquareSums(total, spread)
    block = max(1, (block_elements or 1 << 16) // max(n, 1))
    mean, variance = column_moments(X, None, block=block)
    total = float(m * np.sum(variance + mean * mean))
    return SquareSums(total, float(variance.sum()))


def _blas_square_sums(X, rows):
    """``‖X‖_F²`` and the column sums of a C-ordered X, float64, by ``rows``."""
    m, n = X.shape
    ones = np.ones(rows)
    # float32 rows are converted into one reused float64 block: their
    # squares and sums are then exact to float64 rounding, as column_moments'.
    buffer = None if X.dtype == np.float64 else np.empty((min(rows, m), n))
    total, sums = 0.0, np.zeros(n)
    for start in range(0, m, rows):
        block = X[start : start + rows]
        if buffer is not None:
            block = buffer[: len(block)]
            np.copyto(block, X[start : start + rows])
        flat = block.reshape(-1)
        total += float(flat @ flat)
        sums += ones[: len(block)] @ block
    return total, sums


def projection_error(X, Vt, *, block_elements=1 << 18):
    """``‖X − X V Vᵀ‖_F²`` in float64, by row blocks (no cancellation).

    Computed from the residual itself, not as ``‖X‖² − ‖XV‖²``: that
    difference of two nearly equal numbers cannot resolve an error below
    ``sqrt(eps)`` of the norm.

    Examples
    --------
    >>> import numpy as np
    >>> projection_error(np.array([[3.0, 4.0]]), np.array([[1.0, 0.0]]))
    16.0
    """
    V = np.asarray(Vt, dtype=np.float64).T
    rows = max(1, block_elements // max(X.shape[1], 1))
    total = 0.0
    for start in range(0, X.shape[0], rows):
        Xb = X[start : start + rows]
        Xb = Xb.toarray() if sp.issparse(Xb) else Xb
        Xb = np.asarray(Xb, dtype=np.float64)
        residual = Xb - dot(dot(Xb, V), V, trans_b=True)
        total += float(np.add.reduce(residual * residual, axis=None))
    return total


class Figures(NamedTuple):
    """The figures of :func:`figures`, named as the fitted attributes."""

    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    explained_energy_ratio: np.ndarray
    reconstruction_error: float


def coordinates(X, Vt):
    """``Z = X Vᵀ``, the coordinates of the rows of X on the rows of ``Vt``.

    In X's dtype, through numpy's matmul for dense X -- the BLAS of block
    Lanczos, ``"auto"``'s solver: right after it, scipy's ``gemm`` waited on
    numpy's spinning thread pool (see :mod:`._linalg`) -- and the sparse
    product otherwise.  ``transform`` and ``fit_transform`` both return
    this, so they agree to the last bit.

    Examples
    --------
    >>> import numpy as np
    >>> coordinates(np.array([[3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    array([[3., 4.]])
    """
    if sp.issparse(X):
        Vt = np.asarray(Vt, dtype=X.dtype)
        return np.ascontiguousarray(safe_sparse_dot(X, Vt.T, dense_output=True))
    if isinstance(X, np.ndarray):
        Vt = np.asarray(Vt, dtype=X.dtype)
    return X @ Vt.T  # another array namespace: Vt is there, in X's dtype


def coordinate_moments(X, Vt, *, Z=None, block_elements=1 << 18):
    """Mean and variance of each column of ``Z = X Vᵀ``, float64, and ``‖Z‖_F²``.

    Dense X is projected by blocks of about ``block_elements`` numbers, so
    ``Z`` is never formed (fit returns no coordinates: on 200000×100 at
    k = 88 they would be 0.88× X); sparse X is projected whole.  ``Z``, if
    given, is used instead.  Each block is shifted by the first row of Z
    before squaring, so a column far from 0 keeps its variance.

    Returns
    -------
    mean, variance : ndarray of shape (k,)
    squares : float
        ``‖Z‖_F²``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    >>> coordinate_moments(X, np.eye(2), block_elements=2)
    (array([3., 2.]), array([2.66666667, 0.        ]), 47.0)
    """
    if Z is None and sp.issparse(X):
        Z = coordinates(X, Vt)
    rows = max(1, block_elements // max(X.shape[1], 1))
    if Z is None:
        mean, variance = column_moments(
            X, None, block=rows, project=lambda Xb: coordinates(Xb, Vt)
        )
    else:  # by blocks too: a float64 copy of Z would cost up to 2× Z
        mean, variance = column_moments(Z, None, block=rows)
    return mean, variance, float(X.shape[0] * np.sum(variance + mean * mean))


def coordinates_for_figures(Z, U, s, scale):
    """The coordinates of the scaled data that the figures read.

    They are those ``transform`` gives, ``X V_k``: Z itself when
    ``fit_transform`` returns it (on unscaled data), else the solver's
    ``U_k Σ_k``, equal to ``X V_k`` to rounding (the protocol: a solver
    whose left vectors are not, such as the randomized range finder's,
    returns none), else None: :func:`figures` then projects X by blocks.
    ``U`` is scaled in place.

    Examples
    --------
    >>> import numpy as np
    >>> coordinates_for_figures(None, np.array([[1.0], [0.0]]), np.array([3.0]), 1.0)
    array([[3.],
           [0.]])
    """
    if Z is not None and scale == 1.0:
        return Z
    if U is None:
        return None
    return np.multiply(U, s, out=U) if U.dtype == np.result_type(U, s) else U * s


def figures(X, Vt, s, *, total, scale=1.0, total_var=None, Z=None):
    """Variance, energy and error figures of the triplets of a training fit.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (m, n)
        The data, times ``scale``.
    Vt : ndarray of shape (k, n)
        Its top right singular vectors.
    s : ndarray of shape (k,)
        Its top singular values.
    total : float
        ``‖X‖_F²``.
    scale : float, default=1.0
        The data were multiplied by it: the ratios are computed on the
        scaled data (no overflow), the variances scaled back.
    total_var : float or None, default=None
        The total variance of X, if known (:func:`square_sums`).
    Z : ndarray of shape (m, k) or None, default=None
        ``X V_k`` if already formed (``fit_transform``); else it is
        reduced by blocks (:func:`coordinate_moments`).

    Returns
    -------
    Figures
        Variance of each column of ``Z = X V_k`` (what ``transform``
        returns: for an approximate SVD it is not ``U_k Σ_k``), that over
        the total variance of X, ``σ_i² / ‖X‖_F²``, and
        ``‖X − X V Vᵀ‖_F / ‖X‖_F``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[3.0, 0.0], [0.0, 1.0]])
    >>> f = figures(X, np.array([[1.0, 0.0]]), np.array([3.0]), total=10.0)
    >>> f.explained_energy_ratio, round(f.reconstruction_error**2, 12)
    (array([0.9]), 0.1)
    """
    _, variance, kept = coordinate_moments(X, Vt, Z=Z)
    return combined_figures(
        variance,
        total_variance(X) if total_var is None else total_var,
        s,
        total=total,
        kept=kept,
        residual=lambda: projection_error(X, Vt),
        scale=scale,
    )


def combined_figures(variance, total_var, s, *, total, kept, residual, scale=1.0):
    """:func:`figures` from the reductions of X and Z it needs, wherever
    they were computed (numpy, or another array namespace's device).

    ``variance`` is that of each column of Z, ``total_var`` the sum of X's
    column variances, ``kept`` ``‖Z‖_F²``; ``residual()`` returns
    ``‖X − X V Vᵀ‖_F²``, called only when ``total - kept`` is too close to
    rounding noise to give the error.
    """
    variance = np.asarray(variance, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        explained_variance = variance / np.float64(scale) ** 2
        ratio = variance / total_var
        energy = np.asarray(s, dtype=np.float64) ** 2
        energy_ratio = energy / total if total > 0 else energy * 0
    lost = max(total - kept, 0.0)
    if not lost > _CANCELLATION * total:
        lost = residual()
    error = float(np.sqrt(lost / total)) if total > 0 else 0.0
    return Figures(explained_variance, ratio, energy_ratio, error)


class ExactSVD(NamedTuple):
    """The top triplets' right vectors and values, and the fit's figures."""

    components: np.ndarray
    singular_values: np.ndarray
    figures: Figures


def exact_svd_figures(statistics, n_components):
    """The exact truncated SVD of the rows behind row statistics, and its
    figures (see :meth:`~skla._algorithms.statistics.RowStatistics.right_svd`).

    ``n_components`` is a rank (at most ``min(n_rows, n_features)``) or a
    fraction of the energy.  Signs follow :func:`~sklearn.utils.extmath.svd_flip`
    (``u_based_decision=False``); the reconstruction error comes from the
    discarded singular values themselves.
    """
    U, s, Vt = statistics.right_svd()
    total = float(np.sum(s**2))
    if isinstance(n_components, Integral):
        k = int(n_components)
        if k > len(s):
            raise ValueError(
                f"n_components={k} must be at most min(n_samples, n_features)"
                f" = {len(s)} (n_samples={statistics.n_rows} rows seen so far, "
                f"n_features={statistics.n_features})."
            )
    else:
        k = max(1, energy_rank(s, float(n_components) * total)[0])
    _, Vt = svd_flip(U[:, :k], Vt[:k], u_based_decision=False)
    variance, total_variance = statistics.svd_figures(Vt)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = variance / total_variance
        energy_ratio = s[:k] ** 2 / total if total > 0 else s[:k] * 0
    lost = float(np.sum(s[k:] ** 2))
    error = float(np.sqrt(lost / total)) if total > 0 else 0.0
    return ExactSVD(Vt, s[:k], Figures(variance, ratio, energy_ratio, error))
