r"""The numerics of the least-squares solvers of :class:`~skla.PinvRegressor`.

Each function returns the minimum-norm minimiser of
:math:`\|A x - B\|_F^2 + \alpha \|x\|_2^2` for a
:class:`~skla._data.LstsqProblem`, as ``(coef, rank, singular_values)``
(:func:`lsqr_solve`, which computes no spectrum: ``coef`` alone); the
components in :mod:`skla.components.lstsq` wrap them in an ``LstsqResult``.
The filter factors are written once, :func:`filter_factors`, for the SVD
and QR routes; the Gram route (:class:`~skla._algorithms.gram.GramFactorisation`,
re-exported here) filters the eigenvalues of ``AᵀA``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import lsqr
from sklearn.exceptions import ConvergenceWarning

from .gram import GramFactorisation
from .qr import apply_q, augmented_r, householder

__all__ = [
    "GramFactorisation",
    "default_rtol",
    "filter_factors",
    "lsqr_solve",
    "qr_solve",
    "reported_singular_values",
    "solve_from_svd",
    "svd_solve",
    "thin_svd",
]


def default_rtol(n_rows, n_features, dtype, compute_dtype=np.float64):
    """The default cut-off for small singular values, relative to the largest.

    Two sources of noise bound what a singular value can tell:

    - the arithmetic of the solver: ``max(n_rows, n_features)`` rounding
      errors of ``compute_dtype`` (numpy's ``lstsq`` and ``matrix_rank``
      rule); every built-in solver computes in float64, whatever X's dtype;
    - the data themselves: float32 entries are known to one unit of
      float32's precision, so a direction below ``eps(float32)·σ_max`` may
      be rounding of the data alone (LAPACK's default cut-off in its
      least-squares drivers, which :func:`scipy.linalg.lstsq` keeps).

    The cut-off is the larger of the two.  It is *not* the row count times
    float32's precision: at 500000 rows that would be 0.06, and drop a
    direction of a matrix of condition number 17.

    Parameters
    ----------
    n_rows, n_features : int
        The shape of the (centred, weighted) least-squares problem.
    dtype : dtype
        The data's dtype (float32 or float64).
    compute_dtype : dtype, default=float64
        The dtype the solver computes in.

    Returns
    -------
    rtol : float

    Examples
    --------
    >>> import numpy as np
    >>> default_rtol(500_000, 2, np.float64)  # max(n, d) · eps(float64)
    1.1102230246251565e-10
    >>> default_rtol(500_000, 2, np.float32)  # eps(float32)
    1.1920928955078125e-07
    >>> default_rtol(10, 2, np.float32, np.float32)  # a float32 device
    1.1920928955078125e-06
    """
    arithmetic = max(n_rows, n_features) * float(np.finfo(compute_dtype).eps)
    return max(arithmetic, float(np.finfo(dtype).eps))


def reported_singular_values(singular_values, rank, scale=1.0):
    """The singular values as ``singular_values_`` reports them: divided by
    the data's ``scale``, and those not kept (past ``rank``: below the
    cut-off, or inside the Gram route's rounding noise) as 0, so every
    solver and route reports the same numbers (noise differs between them).

    Examples
    --------
    >>> import numpy as np
    >>> reported_singular_values(np.array([4.0, 2.0, 3e-17]), 2, scale=2.0)
    array([2., 1., 0.])
    """
    if singular_values is None:
        return None
    s = np.array(singular_values, dtype=np.float64) / scale
    if rank is not None:
        s[rank:] = 0.0
    return s


def filter_factors(s, alpha, rtol):
    """Filter factors ``s / (s² + alpha)`` with singular values below the cut zeroed.

    Parameters
    ----------
    s : ndarray of shape (k,)
        Singular values.
    alpha : float
        Ridge parameter, >= 0.
    rtol : float
        Values ``s <= rtol * max(s)`` are treated as zero.

    Returns
    -------
    phi : ndarray of shape (k,)
        The filter factors.
    rank : int
        The number of singular values kept.

    Examples
    --------
    >>> import numpy as np
    >>> phi, rank = filter_factors(np.array([4.0, 2.0, 1e-20]), 0.0, 1e-10)
    >>> phi, rank
    (array([0.25, 0.5 , 0.  ]), 2)
    """
    s = np.asarray(s, dtype=np.float64)
    keep = s > (rtol * s.max() if s.size else 0.0)
    phi = np.zeros_like(s)
    # s / (s² + α) written as 1 / (s + α/s): s² overflows beyond 1e154 (and
    # goes subnormal below 1e-154); this form does neither.
    with np.errstate(over="ignore"):  # α/s → inf: the factor is 0, rightly
        phi[keep] = 1.0 / (s[keep] + alpha / s[keep])
    return phi, int(keep.sum())


def thin_svd(a):
    """Thin SVD with the fast divide-and-conquer driver, falling back to gesvd.

    Examples
    --------
    >>> import numpy as np
    >>> thin_svd(np.diag([1.0, 3.0]))[1]
    array([3., 1.])
    """
    try:
        return scipy.linalg.svd(
            a, full_matrices=False, overwrite_a=False, check_finite=False
        )
    except np.linalg.LinAlgError:  # gesdd fails to converge on rare inputs
        return scipy.linalg.svd(
            a, full_matrices=False, check_finite=False, lapack_driver="gesvd"
        )


def solve_from_svd(s, V, UtB, alpha, rtol):
    """``x = V diag(phi) UᵀB``, the filtered solution from a thin SVD.

    Returns
    -------
    coef, rank, singular_values

    Examples
    --------
    >>> import numpy as np
    >>> coef, rank, s = solve_from_svd(np.array([2.0, 0.0]), np.eye(2),
    ...                                np.array([[4.0], [1.0]]), 0.0, 1e-12)
    >>> coef.ravel(), rank
    (array([2., 0.]), 1)
    """
    phi, rank = filter_factors(s, alpha, rtol)
    return V @ (phi[:, None] * UtB), rank, s


def svd_solve(problem, alpha, rtol):
    """By LAPACK's SVD of the dense A, in float64 (a copy of X unless
    ``overwrite_X`` on float64 X).

    float32 X is copied to float64 before it is centred: the SVD of the
    reference solver is that of the data, not of float32 rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from skla._data import LstsqProblem
    >>> X, Y = np.array([[2.0, 3.0], [1.0, 1.0]]), np.array([[8.0], [3.0]])
    >>> svd_solve(LstsqProblem(X, Y, None, None, None), 0.0, 1e-12)[0].ravel()
    array([1., 2.])
    """
    U, s, Vt = thin_svd(problem.dense(np.float64))
    return solve_from_svd(s, Vt.T, U.T @ problem.rhs(), alpha, rtol)


def qr_solve(problem, alpha, rtol, block_rows=None):
    """By Householder QR, then the SVD of the small triangular factor.

    Tall A (n >= d): ``R`` of ``[A | B]`` by row blocks (:func:`.qr.tsqr`,
    ``block_rows`` rows at a time), whose top-left ``R`` and top-right
    ``QᵀB`` define ``min ‖Rx - QᵀB‖``.  Wide A: ``Aᵀ = QR`` on a dense copy,
    then ``x = Q (Rᵀ)⁺ B``.

    Examples
    --------
    >>> import numpy as np
    >>> from skla._data import LstsqProblem
    >>> X, Y = np.array([[1.0, 1.0], [2.0, 2.0]]), np.array([[2.0], [4.0]])
    >>> qr_solve(LstsqProblem(X, Y, None, None, None), 0.0, 1e-12)[:2]
    (array([[1.],
           [1.]]), 1)
    """
    n, d = problem.shape
    if n < d:
        return _qr_solve_wide(problem, alpha, rtol)

    R = augmented_r(problem, block_rows)
    U, s, Vt = thin_svd(R[:d, :d])
    return solve_from_svd(s, Vt.T, U.T @ R[:d, d:], alpha, rtol)


def _qr_solve_wide(problem, alpha, rtol):
    n, d = problem.shape
    At = problem.dense(np.float64).T  # d×n, Fortran order
    qr, tau, R = householder(At)
    # Aᵀ = QR and R = Ur S Vrᵀ give A = Vr S (Q Ur)ᵀ: an SVD of A.
    Ur, s, Vrt = thin_svd(R)
    phi, rank = filter_factors(s, alpha, rtol)
    c = np.zeros((d, problem.n_targets), order="F")
    c[:n] = Ur @ (phi[:, None] * (Vrt @ problem.rhs()))
    return apply_q(qr, tau, c), rank, s


def lsqr_solve(problem, alpha, rtol, *, atol, btol, max_iter):
    """LSQR on A as a linear operator, one target at a time, from zero.

    ``alpha`` enters as LSQR's damping ``sqrt(alpha)`` and ``rtol`` as its
    condition limit ``1/rtol``.  A target that reaches ``max_iter`` before
    the tolerances ``atol`` and ``btol`` emits a ConvergenceWarning.

    Returns
    -------
    coef : ndarray of shape (n_features, n_targets)

    Examples
    --------
    >>> import numpy as np
    >>> from skla._data import LstsqProblem
    >>> X, Y = np.array([[2.0, 3.0], [1.0, 1.0]]), np.array([[8.0], [3.0]])
    >>> problem = LstsqProblem(X, Y, None, None, None)
    >>> lsqr_solve(problem, 0.0, 1e-12, atol=1e-12, btol=1e-12, max_iter=100)
    array([[1.],
           [2.]])
    """
    A = problem.operator()
    B = problem.rhs()
    coef = np.empty((problem.shape[1], B.shape[1]))
    for j in range(B.shape[1]):
        result = lsqr(
            A,
            B[:, j],
            damp=np.sqrt(alpha),
            atol=atol,
            btol=btol,
            conlim=1.0 / rtol if rtol > 0 else np.inf,
            iter_lim=max_iter,
        )
        coef[:, j], istop = result[0], result[1]
        if istop == 7:  # the iteration limit
            warnings.warn(
                f"LSQR reached max_iter={max_iter} before its tolerances "
                f"(atol={atol}, btol={btol}); increase max_iter or "
                "use solver='qr'.",
                ConvergenceWarning,
                stacklevel=4,  # the caller of the solver component
            )
    return coef
