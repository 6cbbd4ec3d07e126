r"""Truncated-SVD solvers: the top singular triplets of a matrix.

A solver returns the ``k`` largest singular values of X (m×n) with their
singular vectors, :math:`X \approx U_k \operatorname{diag}(s_k) V_k^\top`.  By
the Eckart–Young theorem no rank-k matrix is closer to X in the Frobenius norm,

.. math::

    \min_{\operatorname{rank} B \le k} \|X - B\|_F
    = \Big(\sum_{i > k} \sigma_i^2\Big)^{1/2},

so the accuracy of an approximate solver is measured against that optimum.
:class:`SVDSolver` lists the protocol.  Every built-in keeps float32 input in
float32 (pixels are 8-bit: single precision loses nothing there and halves the
work).

The randomized solver is written here on scipy's BLAS and LAPACK alone (see
:mod:`skla._algorithms._linalg`) rather than calling
:func:`sklearn.utils.extmath.randomized_svd`, which mixes numpy's and scipy's
OpenBLAS thread pools (``benchmarks/bench_svd.py`` measures both).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, svds
from sklearn.utils import check_random_state

from .._algorithms._linalg import dot, sum_of_squares
from ..plugins import register
from ._base import Component

__all__ = [
    "ArpackSVD",
    "AutoSVD",
    "FullSVD",
    "PropackSVD",
    "RandomizedSVD",
    "SVDResult",
    "SVDSolver",
]


class SVDResult(NamedTuple):
    """Top singular triplets, largest first: ``X ≈ U @ diag(s) @ Vt``.

    Examples
    --------
    >>> import numpy as np
    >>> U, s, Vt = FullSVD().svd(np.diag([1.0, 3.0]), 1)
    >>> s, U.shape, Vt.shape
    (array([3.]), (2, 1), (1, 2))
    """

    U: np.ndarray
    s: np.ndarray
    Vt: np.ndarray


@runtime_checkable
class SVDSolver(Protocol):
    """The protocol of a truncated-SVD solver.

    ``svd(X, n_components, *, random_state)`` returns an :class:`SVDResult`
    with ``n_components`` triplets, singular values in decreasing order.
    ``X`` is a dense array or a sparse matrix, float32 or float64.

    Optional method an estimator uses when present:

    - ``svd_energy(X, fraction, *, random_state)``: the fewest triplets whose
      squared singular values sum to at least ``fraction`` of
      ``‖X‖_F²``.  Without it the estimator doubles ``n_components`` until
      the fraction is reached.

    Examples
    --------
    >>> import numpy as np
    >>> class NumpySVD:
    ...     def svd(self, X, n_components, *, random_state):
    ...         U, s, Vt = np.linalg.svd(X, full_matrices=False)
    ...         k = n_components
    ...         return SVDResult(U[:, :k], s[:k], Vt[:k])
    >>> isinstance(NumpySVD(), SVDSolver)
    True
    >>> NumpySVD().svd(np.diag([1.0, 3.0]), 1, random_state=None).s
    array([3.])
    """

    def svd(self, X, n_components, *, random_state) -> SVDResult:
        """The ``n_components`` largest singular triplets of X."""


def _rank_for(s, target):
    """The fewest leading singular values whose squares reach ``target``."""
    cumulative = np.cumsum(np.asarray(s, dtype=np.float64) ** 2)
    return int(min(np.searchsorted(cumulative, target * (1 - 1e-12)) + 1, len(s)))


@register("svd_solver", "full")
class FullSVD(Component):
    """Every singular triplet by LAPACK's divide and conquer (``gesdd``), then cut.

    Exact; costs O(mn·min(m, n)) whatever ``n_components`` is -- the seed's
    ``np.linalg.svd``.  Sparse X is densified.

    Examples
    --------
    >>> import numpy as np
    >>> FullSVD().svd(np.diag([3.0, 1.0, 2.0]), 2, random_state=None).s
    array([3., 2.])
    """

    def _all(self, X):
        A = X.toarray() if sp.issparse(X) else np.asarray(X)
        U, s, Vt = sl.svd(A, full_matrices=False, check_finite=False)
        return SVDResult(U, s, Vt)

    def svd(self, X, n_components, *, random_state=None):
        U, s, Vt = self._all(X)
        k = n_components
        return SVDResult(U[:, :k], s[:k], Vt[:k])

    def svd_energy(self, X, fraction, *, random_state=None):
        U, s, Vt = self._all(X)
        k = _rank_for(s, fraction * sum_of_squares(X))
        return SVDResult(U[:, :k], s[:k], Vt[:k])


def _orthonormal(Y):
    return sl.qr(Y, mode="economic", overwrite_a=True, check_finite=False)[0]


def _well_conditioned(Y):
    """A basis of span(Y) with unit-lower-triangular rows: LU's ``P L``.

    Between power iterations the basis only has to stay well conditioned;
    LU does that in a fifth of the time of a QR with its explicit Q (as in
    scikit-learn's randomized range finder).
    """
    return sl.lu(Y, permute_l=True, overwrite_a=True, check_finite=False)[0]


def _project_out(Y, Q):
    """``Y - Q Qᵀ Y``, twice (classical Gram–Schmidt needs the second pass)."""
    for _ in range(2):
        Y = Y - dot(Q, dot(Q, Y, trans_a=True))
    return Y


@register("svd_solver", "randomized")
class RandomizedSVD(Component):
    """Halko–Martinsson–Tropp randomized SVD with power iterations.

    Finds an orthonormal basis Q of ``l = k + n_oversamples`` columns for the
    range of ``(X Xᵀ)^q X Ω`` (Ω Gaussian; each half-step renormalised by LU,
    the last by QR), then takes the exact SVD of the small ``Qᵀ X``.  Its error
    decays like :math:`(\\sigma_{l+1}/\\sigma_k)^{2q+1}` relative to the
    optimum.

    Parameters
    ----------
    n_oversamples : int, default=10
        Extra basis vectors, ``p``.
    n_iter : int or "auto", default="auto"
        Power iterations ``q``; "auto" is 4 (7 when ``k`` is under a tenth
        of ``min(m, n)``), as :func:`sklearn.utils.extmath.randomized_svd`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 200))
    >>> X += 0.01 * rng.standard_normal((300, 200))  # rank 5 plus noise
    >>> s = RandomizedSVD().svd(X, 3, random_state=0).s
    >>> np.allclose(s, np.linalg.svd(X, compute_uv=False)[:3])
    True
    """

    def __init__(self, n_oversamples=10, n_iter="auto"):
        self.n_oversamples = n_oversamples
        self.n_iter = n_iter

    def _power_iterations(self, X, k):
        if self.n_iter != "auto":
            return int(self.n_iter)
        return 7 if k < 0.1 * min(X.shape) else 4

    def _oversampling(self, X, k):
        return self.n_oversamples

    def _range(self, X, width, n_iter, rng, Q=None):
        """An orthonormal basis for ``width`` more directions of X's range."""
        dtype = X.dtype
        omega = rng.standard_normal((width, X.shape[1])).astype(dtype, copy=False).T
        Y = dot(X, omega)
        for _ in range(n_iter):
            if Q is not None:
                Y = _project_out(Y, Q)
            Y = _well_conditioned(Y)
            Z = _well_conditioned(np.asarray(dot(X, Y, trans_a=True)))
            Y = dot(X, Z)
        if Q is not None:
            Y = _project_out(Y, Q)
        return _orthonormal(np.asarray(Y, dtype=dtype))

    @staticmethod
    def _small_svd(X, Q, B=None):
        """The SVD of ``Q Qᵀ X`` from that of the small ``B = Qᵀ X`` (l × n)."""
        if B is None:
            B = np.asarray(dot(Q, X, trans_a=True))
        Ub, s, Vt = sl.svd(B, full_matrices=False, check_finite=False)
        return SVDResult(dot(Q, Ub), s, Vt)

    def svd(self, X, n_components, *, random_state=None):
        if _skinny(X):
            # A side of at most 200: the exact SVD of the R factor costs
            # less time and memory than an m × (k + p) basis.
            return SkinnySVD().svd(X, n_components)
        rng = np.random.default_rng(check_random_state(random_state).randint(2**31))
        k = n_components
        width = min(k + self._oversampling(X, k), min(X.shape))
        Q = self._range(X, width, self._power_iterations(X, k), rng)
        U, s, Vt = self._small_svd(X, Q)
        return SVDResult(U[:, :k], s[:k], Vt[:k])

    def svd_energy(self, X, fraction, *, random_state=None, block=32):
        """Grow the basis ``block`` columns at a time until its top triplets hold
        ``fraction`` of ‖X‖_F² -- with the oversampling to spare.

        The rank-k approximation returned, ``Q Qᵀ X`` cut to its top k
        triplets, holds at least that fraction exactly (its squared singular
        values are what is counted), so the guarantee does not rest on the
        approximation being optimal; a loose basis can only make k larger.
        A tall or wide X with a side of at most 200 takes the exact SVD of its
        R factor instead (:class:`SkinnySVD`), here as in :meth:`svd`.
        """
        if _skinny(X):
            # The basis would span most of the small side: the exact SVD of
            # the R factor is cheaper, and holds no m×l basis (3.5× X at 0.9
            # on 200000×100).
            return SkinnySVD().svd_energy(X, fraction)
        rng = np.random.default_rng(check_random_state(random_state).randint(2**31))
        target = fraction * sum_of_squares(X)
        limit = min(X.shape)
        Q = np.empty((X.shape[0], 0), dtype=X.dtype)
        B = np.empty((0, X.shape[1]), dtype=X.dtype)
        while True:
            width = min(block, limit - Q.shape[1])
            n_iter = self._power_iterations(X, Q.shape[1] + width)
            new = self._range(X, width, n_iter, rng, Q if Q.size else None)
            Q = np.asfortranarray(np.hstack([Q, new]))
            B = np.vstack([B, np.asarray(dot(new, X, trans_a=True))])
            U, s, Vt = self._small_svd(X, Q, B)
            k = _rank_for(s, target)
            enough = float(s @ s) >= target
            spare = Q.shape[1] >= k + self._oversampling(X, k)
            if (enough and spare) or Q.shape[1] >= limit:
                return SVDResult(U[:, :k], s[:k], Vt[:k])
            block *= 2


@register("svd_solver", "auto")
class AutoSVD(RandomizedSVD):
    """Randomized SVD tuned to match a full SVD's singular values to 1e-3.

    The basis is oversampled by ``max(n_oversamples, k)`` (twice the rank) and
    refined by 4 power iterations ("auto"): on photographs, whose spectra
    decay slowly, this keeps every singular value within 5e-4 and the
    reconstruction error within 1e-4 of the Eckart–Young optimum (measured on
    scikit-learn's sample photos and a 3024×4032 one, ranks 1 to 64), in 10
    passes over X.  Small matrices (``min(m, n) <= 200``) or ranks above a
    quarter of ``min(m, n)`` use an exact SVD instead: for a tall or wide X
    the SVD of its R factor (:class:`SkinnySVD`: no copy of X, only the k
    returned left vectors; 0.12× X at rank 2 on 200000×100), else LAPACK's.

    Parameters
    ----------
    n_oversamples : int, default=10
        The least oversampling.
    n_iter : int or "auto", default="auto"
        Power iterations; "auto" is 4.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 300)) * 0.9 ** np.arange(300)  # decaying
    >>> s = AutoSVD().svd(X, 5, random_state=0).s
    >>> np.allclose(s, np.linalg.svd(X, compute_uv=False)[:5], rtol=1e-3)
    True
    """

    def _power_iterations(self, X, k):
        return 4 if self.n_iter == "auto" else int(self.n_iter)

    def _oversampling(self, X, k):
        return max(self.n_oversamples, k)

    @staticmethod
    def _full_is_cheaper(X, k):
        return min(X.shape) <= 200 or 4 * k > min(X.shape)

    @staticmethod
    def _exact(X):
        """The exact route: skinny X by its R factor, else LAPACK on X."""
        m, n = X.shape
        return SkinnySVD() if max(m, n) >= 4 * min(m, n) else FullSVD()

    def svd(self, X, n_components, *, random_state=None):
        if self._full_is_cheaper(X, n_components):
            return self._exact(X).svd(X, n_components)
        return super().svd(X, n_components, random_state=random_state)

    def svd_energy(self, X, fraction, *, random_state=None, block=32):
        if min(X.shape) <= 200:
            return self._exact(X).svd_energy(X, fraction)
        return super().svd_energy(X, fraction, random_state=random_state, block=block)


def _skinny(X):
    """A side of at most 200 and the other at least 4 times longer."""
    return min(X.shape) <= 200 and max(X.shape) >= 4 * min(X.shape)


def _r_factor(X, *, block_elements=1 << 18):
    """The R of a QR of X (m ≥ n), by row blocks, in float64.

    Each block is stacked under the R so far and re-factorised (TSQR): the
    memory is one block, never a copy of X, and R is as accurate as a QR of
    X itself (backward stable), unlike the Gram matrix XᵀX.
    """
    n = X.shape[1]
    rows = max(n, block_elements // max(n, 1))
    R = np.zeros((0, n))
    for start in range(0, X.shape[0], rows):
        block = X[start : start + rows]
        block = block.toarray() if sp.issparse(block) else block
        stacked = np.vstack([R, np.asarray(block, dtype=np.float64)])
        R = sl.qr(stacked, mode="r", check_finite=False)[0][: min(n, len(stacked))]
    return R


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

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((1000, 20))
    >>> s = SkinnySVD().svd(X, 3).s
    >>> np.allclose(s, np.linalg.svd(X, compute_uv=False)[:3], rtol=1e-12)
    True
    """

    def __init__(self, small=None):
        self.small = small

    def _triplets(self, X, k=None, fraction=None):
        if X.shape[0] < X.shape[1]:
            U, s, Vt = self._triplets(X.T, k, fraction)
            return SVDResult(Vt.T, s, U.T)
        R = _r_factor(X)
        if k is not None and self.small is not None:
            s, Vt = self.small(R, k)  # e.g. Lanczos, on the n × n factor
        else:
            _, s, Vt = sl.svd(R, full_matrices=False, check_finite=False)
        if k is None:
            k = _rank_for(s, fraction * float(np.sum(s**2)))
        s, Vt = s[:k], Vt[:k]
        U = np.asarray(dot(X, Vt.astype(X.dtype), trans_b=True))
        np.divide(U, s.astype(U.dtype), out=U, where=s > 0)  # in place
        U[:, s == 0] = 0.0
        return SVDResult(U, s.astype(X.dtype), Vt.astype(X.dtype))

    def svd(self, X, n_components, *, random_state=None):
        return self._triplets(X, k=n_components)

    def svd_energy(self, X, fraction, *, random_state=None):
        return self._triplets(X, fraction=fraction)


class _SvdsSolver(Component):
    """scipy.sparse.linalg.svds with a fixed solver, sorted and deterministic."""

    solver = None

    def __init__(self, tol=0.0):
        self.tol = tol

    def svd(self, X, n_components, *, random_state=None):
        limit = min(X.shape)
        if n_components >= limit:
            raise ValueError(
                f"algorithm={self.solver!r} finds fewer than min(n_samples, "
                f"n_features) = {limit} components; got n_components="
                f"{n_components}. Use algorithm='full' or 'randomized'."
            )
        if _skinny(X):
            # The Lanczos bases are m × kmax: on a tall X (200000×100) they
            # cost more than X; on its n × n R factor, nothing.
            def small(R, k):
                return self._lanczos(R, k, random_state)[1:]

            return SkinnySVD(small).svd(X, n_components)
        return self._lanczos(X, n_components, random_state)

    def _lanczos(self, X, k, random_state):
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
                    tol=self.tol,
                    solver=self.solver,
                    maxiter=budget if self.solver == "propack" else None,
                    random_state=check_random_state(random_state),
                )
                break
            except (np.linalg.LinAlgError, ArpackNoConvergence, ArpackError) as exc:
                if budget >= limit or self.solver != "propack":
                    warnings.warn(
                        f"algorithm={self.solver!r} did not converge ({exc}); "
                        "used LAPACK's full SVD instead.",
                        UserWarning,
                        stacklevel=4,
                    )
                    return FullSVD().svd(X, k)
                budget = min(limit, 2 * budget)
        order = np.argsort(s)[::-1]
        return SVDResult(U[:, order], s[order], Vt[order])


@register("svd_solver", "arpack")
class ArpackSVD(_SvdsSolver):
    """Implicitly restarted Lanczos (ARPACK) on XᵀX, via scipy's ``svds``.

    Parameters
    ----------
    tol : float, default=0.0
        Relative accuracy of the singular values; 0 is machine precision.

    Examples
    --------
    >>> import numpy as np
    >>> ArpackSVD().svd(np.diag([3.0, 1.0, 2.0]), 2, random_state=0).s
    array([3., 2.])
    """

    solver = "arpack"


@register("svd_solver", "propack")
class PropackSVD(_SvdsSolver):
    """Lanczos bidiagonalisation with partial reorthogonalisation (PROPACK).

    Parameters
    ----------
    tol : float, default=0.0
        Relative accuracy of the singular values; 0 is machine precision.

    Examples
    --------
    >>> import numpy as np
    >>> PropackSVD().svd(np.diag([3.0, 1.0, 2.0]), 2, random_state=0).s
    array([3., 2.])
    """

    solver = "propack"
