r"""Truncated-SVD numerics: exact, skinny and Lanczos routes, and the energy rule.

Every function returns the top singular triplets ``(U, s, Vt)``, largest
first, as plain arrays (the components in :mod:`skla.components.svd` wrap
them in an ``SVDResult``); float32 X stays float32.  The randomized range
finder is in :mod:`.randomized_svd`; what a fit reports of its triplets
(variances, energy, error) in :mod:`.svd_figures`.

The rank that keeps a fraction of the energy is chosen in one place,
:func:`energy_rank`, with one tolerance, :data:`ENERGY_RTOL`.
"""

from __future__ import annotations

import inspect
import warnings
from numbers import Integral

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, svds
from sklearn.utils import check_random_state

from ._linalg import dot, sum_of_squares
from .qr import tsqr

__all__ = [
    "ENERGY_RTOL",
    "SkinnySVD",
    "energy_rank",
    "energy_rtol",
    "full_svd",
    "full_svd_energy",
    "grow_to_energy",
    "is_skinny",
    "lanczos_svd",
    "r_factor",
    "top",
    "truncated_svd",
]

#: Squared singular values summing to ``target * (1 - ENERGY_RTOL)`` count as
#: reaching ``target``: the sums are rounded (about 1e-16 relative per term in
#: float64) and a fraction met exactly must not cost one more component.
#: Singular values computed in float32 are looser (see :func:`energy_rtol`).
ENERGY_RTOL = 1e-12

# Cumulative energies of float32 SVDs (LAPACK, ARPACK, Lanczos, randomized)
# were measured within 1.6·eps(float32) of the total away from float64's;
# 16·eps leaves a factor of ten.
_ENERGY_EPS_FACTOR = 16


def energy_rtol(dtype):
    """The relative tolerance on energies of singular values of ``dtype``.

    :data:`ENERGY_RTOL` for float64, ``16·eps`` for float32: a float32
    singular value is itself rounded to float32, so a fraction met exactly
    (two equal halves) would otherwise need one more component than in
    float64 -- or not, depending on the algorithm's rounding.

    Examples
    --------
    >>> import numpy as np
    >>> energy_rtol(np.float64), float(energy_rtol(np.float32))
    (1e-12, 1.9073486328125e-06)
    """
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        return ENERGY_RTOL
    return max(ENERGY_RTOL, _ENERGY_EPS_FACTOR * float(np.finfo(dtype).eps))


def energy_rank(s, target):
    """The fewest leading singular values whose squares sum to ``target``.

    Parameters
    ----------
    s : array-like of shape (k,)
        Singular values, largest first.
    target : float
        The energy to reach, e.g. ``fraction * ‖X‖_F²``; reached within the
        relative :func:`energy_rtol` of the dtype of ``s``.

    Returns
    -------
    rank : int
        The smallest such rank, or ``len(s)`` if all of ``s`` falls short.
    reached : bool
        Whether ``s`` reaches ``target`` at all.

    Examples
    --------
    >>> energy_rank([3.0, 2.0, 1.0], 0.9 * 14)  # 9 + 4 >= 12.6
    (2, True)
    >>> energy_rank([3.0, 2.0], 14)
    (2, False)
    >>> energy_rank(np.float32([1.0, 0.9999995]), 0.5 * 2.0)  # float32 halves
    (1, True)
    """
    s = np.asarray(s)
    cumulative = np.cumsum(s.astype(np.float64) ** 2)
    threshold = target * (1 - energy_rtol(s.dtype))
    if cumulative.size == 0:
        return 0, bool(threshold <= 0)
    rank = int(min(np.searchsorted(cumulative, threshold) + 1, cumulative.size))
    return rank, bool(cumulative[-1] >= threshold)


def top(triplets, k):
    """The first ``k`` of the triplets ``(U, s, Vt)`` (U may be None)."""
    U, s, Vt = triplets
    return None if U is None else U[:, :k], s[:k], Vt[:k]


def full_svd(X):
    """Every singular triplet by LAPACK's ``gesdd``; sparse X is densified.

    Examples
    --------
    >>> import numpy as np
    >>> full_svd(np.diag([1.0, 3.0]))[1]
    array([3., 1.])
    """
    A = X.toarray() if sp.issparse(X) else np.asarray(X)
    return sl.svd(A, full_matrices=False, check_finite=False)


def full_svd_energy(X, fraction):
    """The fewest exact triplets holding ``fraction`` of ``‖X‖_F²``.

    Examples
    --------
    >>> import numpy as np
    >>> full_svd_energy(np.diag([3.0, 1.0, 2.0]), 0.9)[1]  # 13/14 >= 0.9
    array([3., 2.])
    """
    triplets = full_svd(X)
    rank, _ = energy_rank(triplets[1], fraction * sum_of_squares(X))
    return top(triplets, rank)


def is_skinny(X):
    """A side of at most 200 and the other at least 4 times longer.

    Examples
    --------
    >>> import numpy as np
    >>> is_skinny(np.empty((1000, 20))), is_skinny(np.empty((300, 300)))
    (True, False)
    """
    return min(X.shape) <= 200 and max(X.shape) >= 4 * min(X.shape)


def r_factor(X, *, block_elements=1 << 18):
    """The R of a QR of X (m ≥ n), by row blocks (:func:`.qr.tsqr`), in float64.

    The memory is one block of about ``block_elements`` numbers, never a
    copy of X, and R is as accurate as a QR of X itself, unlike ``XᵀX``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((50, 3))
    >>> R = r_factor(X, block_elements=30)
    >>> np.allclose(R.T @ R, X.T @ X)
    True
    """
    n = X.shape[1]

    def read(rows, out):
        block = X[rows]
        out[...] = block.toarray() if sp.issparse(block) else block

    rows = max(n, block_elements // max(n, 1))
    return tsqr(read, X.shape, block_rows=rows)


class SkinnySVD:
    """The exact SVD of a tall or wide X from its R factor, without a copy.

    For ``m ≫ n``: ``X = QR`` (by row blocks), ``R = U_R Σ Vᵀ`` (n × n), so
    the singular values and right vectors are those of R, and the top left
    vectors are ``X V_k / σ_k`` (one pass over X).  A wide X is handled as
    its transpose.  Memory: R, one block, and the k returned vectors --
    LAPACK on X would copy it and return all of U.

    Parameters
    ----------
    small : callable or None
        ``small(R, k) -> (s, Vt)``, the top k singular values and right
        vectors of R, largest first; LAPACK's full SVD of R if None.

    With ``compute_u=False`` a tall X's left vectors are not formed (U is
    None): they would be m × k, 0.88× X at k = 88 on 200000×100.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((1000, 20))
    >>> s = SkinnySVD().svd(X, 3)[1]
    >>> np.allclose(s, np.linalg.svd(X, compute_uv=False)[:3], rtol=1e-12)
    True
    """

    def __init__(self, small=None):
        self.small = small

    def svd(self, X, n_components, *, compute_u=True):
        """The top ``n_components`` triplets."""
        return self._triplets(X, k=n_components, compute_u=compute_u)

    def svd_energy(self, X, fraction, *, compute_u=True):
        """The fewest triplets holding ``fraction`` of the energy of R (= X)."""
        return self._triplets(X, fraction=fraction, compute_u=compute_u)

    def _triplets(self, X, k=None, fraction=None, compute_u=True):
        if X.shape[0] < X.shape[1]:  # X's right vectors are Xᵀ's left ones
            U, s, Vt = self._triplets(X.T, k, fraction)
            return Vt.T, s, U.T
        R = r_factor(X)
        if k is not None and self.small is not None:
            s, Vt = self.small(R, k)  # e.g. Lanczos, on the n × n factor
        else:
            _, s, Vt = sl.svd(R, full_matrices=False, check_finite=False)
        if k is None:
            k, _ = energy_rank(s, fraction * float(np.sum(s**2)))
        s, Vt = s[:k], Vt[:k]
        if not compute_u:
            return None, s.astype(X.dtype), Vt.astype(X.dtype)
        U = np.asarray(dot(X, Vt.astype(X.dtype), trans_b=True))
        np.divide(U, s.astype(U.dtype), out=U, where=s > 0)  # in place
        U[:, s == 0] = 0.0
        return U, s.astype(X.dtype), Vt.astype(X.dtype)


def lanczos_svd(X, k, *, solver, tol=0.0, random_state=None, compute_u=True):
    """The top ``k < min(m, n)`` triplets by scipy's ``svds``, sorted.

    A skinny X (:func:`is_skinny`) is factorised through its R factor, the
    Lanczos iterations running on the small R: their bases are m × kmax, on
    a tall X (200000×100) more than X itself.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (m, n)
    k : int
    solver : {"arpack", "propack"}
    tol : float, default=0.0
        Relative accuracy of the singular values; 0 is machine precision.
    random_state : int, RandomState instance or None
    compute_u : bool, default=True
        False: a skinny X's left vectors are not formed (U is None).

    Examples
    --------
    >>> import numpy as np
    >>> lanczos_svd(np.diag([3.0, 1.0, 2.0]), 2, solver="arpack")[1]
    array([3., 2.])
    """
    if is_skinny(X):

        def small(R, k):
            return _svds(R, k, solver, tol, random_state)[1:]

        return SkinnySVD(small).svd(X, k, compute_u=compute_u)
    return _svds(X, k, solver, tol, random_state)


def _svds(X, k, solver, tol, random_state):
    """scipy's svds, sorted; larger Krylov budgets, then LAPACK if need be.

    scipy's default PROPACK budget (kmax = 10 k) is too small for the
    flat spectrum of an ordinary random matrix: it starts a little
    larger and doubles up to min(m, n).  ARPACK's ``maxiter`` counts
    restarts, not basis vectors: it keeps scipy's default.
    """
    limit = min(X.shape)
    budget = min(limit, max(10 * k, 30))
    while True:
        try:
            U, s, Vt = svds(
                X,
                k=k,
                tol=tol,
                solver=solver,
                maxiter=budget if solver == "propack" else None,
                random_state=check_random_state(random_state),
            )
            break
        except (np.linalg.LinAlgError, ArpackNoConvergence, ArpackError) as exc:
            if budget >= limit or solver != "propack":
                warnings.warn(
                    f"algorithm={solver!r} did not converge ({exc}); "
                    "used LAPACK's full SVD instead.",
                    UserWarning,
                    stacklevel=5,
                )
                return top(full_svd(X), k)
            budget = min(limit, 2 * budget)
    order = np.argsort(s)[::-1]
    return U[:, order], s[order], Vt[order]


def grow_to_energy(svd, X, fraction):
    """Double k until ``svd(k)``'s triplets hold ``fraction`` of ‖X‖_F².

    For a solver without an energy criterion of its own.  Solvers that find
    fewer than min(m, n) triplets (ARPACK-style) may not reach the fraction:
    the last step is then LAPACK's exact SVD, so the fraction is always met.

    Parameters
    ----------
    svd : callable
        ``svd(k) -> (U, s, Vt)``, the top k triplets of X.
    X : {ndarray, sparse matrix} of shape (m, n)
    fraction : float

    Examples
    --------
    >>> import numpy as np
    >>> X = np.diag(0.5 ** np.arange(40))
    >>> U, s, Vt = grow_to_energy(lambda k: top(full_svd(X), k), X, 0.99)
    >>> len(s)  # 1 - 4**-4 > 0.99 > 1 - 4**-3
    4
    """
    target = fraction * sum_of_squares(X)
    limit = min(X.shape) - 1  # ARPACK-style solvers find fewer than min
    k = min(16, limit)
    while k >= 1:
        triplets = svd(k)
        rank, reached = energy_rank(triplets[1], target)
        if reached:
            return top(triplets, rank)
        if k >= limit:
            break
        k = min(2 * k, limit)
    return full_svd_energy(X, fraction)


def truncated_svd(
    solver, X, n_components, random_state, *, squared_norm=None, compute_u=True
):
    """The top triplets of X by an SVD solver component, for ``n_components``
    a rank (at most ``min(m, n)``) or a fraction of the energy (the solver's
    ``svd_energy`` if it has one, else :func:`grow_to_energy`).

    The optional keywords of the protocol go to a solver that takes them:
    ``squared_norm``, ``‖X‖_F²`` if the caller knows it, and
    ``compute_u=False`` when the caller needs no left vectors (U may then
    come back None)."""
    m, n = X.shape
    options = {}
    if squared_norm is not None:
        options["squared_norm"] = squared_norm
    if not compute_u:
        options["compute_u"] = False

    def call(method, *args):
        taken = {key: v for key, v in options.items() if _takes(method, key)}
        return method(X, *args, random_state=random_state, **taken)

    if isinstance(n_components, Integral):
        k = int(n_components)
        if k > min(m, n):
            raise ValueError(
                f"n_components={k} must be at most min(n_samples, n_features)"
                f" = {min(m, n)} (n_samples={m}, n_features={n})."
            )
        return call(solver.svd, k)
    fraction = float(n_components)
    if hasattr(solver, "svd_energy"):
        return call(solver.svd_energy, fraction)
    return grow_to_energy(lambda k: call(solver.svd, k), X, fraction)


def _takes(method, keyword):
    """Whether ``method`` accepts ``keyword``."""
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return keyword in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
