r"""Least-squares solvers: the pluggable ``solver`` of :class:`~skla.PinvRegressor`.

Every solver returns the minimum-norm minimiser of

.. math::

    \|A x - B\|_F^2 + \alpha \|x\|_2^2,

that is :math:`x = \sum_i \phi_i\, v_i u_i^\top B` over the singular triplets
:math:`(\sigma_i, u_i, v_i)` of A with the *filter factors*

.. math::

    \phi_i = \frac{\sigma_i}{\sigma_i^2 + \alpha} \text{ if }
    \sigma_i > \mathrm{rtol}\cdot\sigma_{\max}, \qquad \phi_i = 0 \text{ otherwise},

which is the Moore--Penrose solution :math:`A^+B` when :math:`\alpha = 0` and
ridge regression when :math:`\alpha > 0`.  The solvers differ in how they get
there:

========  ==================================================  ================
name      method                                              accuracy
========  ==================================================  ================
``svd``   LAPACK SVD of the centred copy of X                 backward stable
``qr``    block-wise (TSQR) Householder QR of [A | B], then   backward stable
          the SVD of the small triangular factor
``gram``  eigendecomposition of AᵀA, formed block-wise        ~ eps·cond(A)²
``lsqr``  LSQR iterations on A as a linear operator           iterative
``auto``  ``gram`` when the eigenvalues it computes show it   as ``qr``
          is accurate to 1e-9, otherwise ``qr`` (or ``lsqr``
          for sparse X too large to factor)
========  ==================================================  ================

A solver is any object with a ``solve`` method (:class:`LstsqSolver`); it is
registered under a name with :func:`skla.register` or the entry-point group
``skla.lstsq_solvers``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import lsqr
from sklearn.exceptions import ConvergenceWarning

from .._data import LstsqProblem
from ..plugins import register
from ._base import Component

__all__ = [
    "GRAM_TOL",
    "AutoSolver",
    "GramAccuracyWarning",
    "GramSolver",
    "LSQRSolver",
    "LstsqProblem",
    "LstsqResult",
    "LstsqSolver",
    "QRSolver",
    "SVDSolver",
    "filter_factors",
]

#: The relative accuracy "auto" requires of the normal equations before it
#: trusts them, two orders of magnitude tighter than the 1e-8 agreement with
#: LAPACK least squares that skla promises.
GRAM_TOL = 1e-9

# "auto" forms the dense Gram matrix of sparse X only up to this many features.
_SPARSE_GRAM_MAX_FEATURES = 4096

# "auto" factors sparse X with TSQR (dense row blocks) while n * d**2 stays
# below this many flops (a few seconds here); beyond it LSQR is cheaper.
_SPARSE_QR_MAX_FLOPS = 2e10


class LstsqResult(NamedTuple):
    """What a least-squares solver returns.

    Attributes
    ----------
    coef : ndarray of shape (n_features, n_targets)
        The solution x.
    rank : int or None
        Number of singular values kept (None if the solver does not know).
    singular_values : ndarray of shape (min(n_samples, n_features),) or None
        Singular values of A in decreasing order (None if not computed).
    solver : str
        The method that produced the solution, e.g. ``"gram"``.

    Examples
    --------
    >>> import numpy as np
    >>> result = LstsqResult(np.zeros((2, 1)), 2, np.array([3.0, 1.0]), "mine")
    >>> result.rank, result.solver
    (2, 'mine')
    """

    coef: np.ndarray
    rank: int | None
    singular_values: np.ndarray | None
    solver: str


@runtime_checkable
class LstsqSolver(Protocol):
    """The protocol of a least-squares solver.

    A solver has one method, ``solve``.  It receives the problem (which gives
    access to A and B without forming A; see :class:`LstsqProblem`), the ridge
    parameter ``alpha >= 0`` and the relative cut-off ``rtol`` for small
    singular values, and returns an :class:`LstsqResult` with the
    minimum-norm solution.

    Examples
    --------
    >>> import numpy as np
    >>> from skla import PinvRegressor
    >>> class NumpySolver:
    ...     def solve(self, problem, *, alpha, rtol):
    ...         coef, _, rank, s = np.linalg.lstsq(problem.dense(), problem.rhs(),
    ...                                            rcond=rtol)
    ...         return LstsqResult(coef, int(rank), s, "numpy")
    >>> isinstance(NumpySolver(), LstsqSolver)
    True
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> PinvRegressor(solver=NumpySolver()).fit(X, [1.0, 2.0, 3.0]).coef_
    array([1., 2.])
    """

    def solve(self, problem: LstsqProblem, *, alpha: float, rtol: float) -> LstsqResult:
        """Return the minimum-norm minimiser of ``‖Ax - B‖² + alpha ‖x‖²``."""


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


def _svd(a):
    """Thin SVD with the fast divide-and-conquer driver, falling back to gesvd."""
    try:
        return scipy.linalg.svd(
            a, full_matrices=False, overwrite_a=False, check_finite=False
        )
    except np.linalg.LinAlgError:  # gesdd fails to converge on rare inputs
        return scipy.linalg.svd(
            a, full_matrices=False, check_finite=False, lapack_driver="gesvd"
        )


def _solve_from_svd(s, V, UtB, alpha, rtol, solver):
    """x = V diag(phi) UᵀB, the filtered solution from a thin SVD."""
    phi, rank = filter_factors(s, alpha, rtol)
    coef = V @ (phi[:, None] * UtB)
    return LstsqResult(coef, rank, s, solver)


@register("lstsq_solver", "svd")
class SVDSolver(Component):
    """LAPACK singular value decomposition of the centred, weighted copy of X.

    The reference method: ``A = U diag(s) Vᵀ`` by ``gesdd``, then the filtered
    solution.  It needs dense X and a copy of it (or ``copy_X=False``).

    Examples
    --------
    >>> import numpy as np
    >>> from skla import PinvRegressor
    >>> X = np.array([[2.0, 3.0], [1.0, 1.0]])
    >>> PinvRegressor(fit_intercept=False, solver="svd").fit(X, [8, 3]).coef_
    array([1., 2.])
    """

    def solve(self, problem, *, alpha, rtol):
        U, s, Vt = _svd(problem.dense())
        UtB = U.T.astype(np.float64, copy=False) @ problem.rhs()
        return _solve_from_svd(s.astype(np.float64), Vt.T, UtB, alpha, rtol, "svd")


def _geqrf(a):
    """Householder QR of a Fortran-ordered float64 array, in place (LAPACK geqrf).

    The workspace is queried: scipy's default, ``3 n``, forces LAPACK's
    unblocked algorithm (measured: 3.96 s instead of 1.14 s on 20000×1001).
    """
    geqrf, geqrf_lwork = scipy.linalg.get_lapack_funcs(
        ("geqrf", "geqrf_lwork"), dtype=np.float64
    )
    lwork = int(geqrf_lwork(*a.shape)[0])
    qr, tau = geqrf(a, lwork=max(lwork, 1), overwrite_a=True)[:2]
    return qr, tau


def _tsqr(problem, n_rows=None):
    """R of the QR factorisation of ``[A | B]``, accumulated over row blocks.

    Tall-and-skinny QR: the first block is factored by ``geqrf``; each later
    block is folded into the triangular factor by ``tpqrt``, which exploits
    the triangle (measured on 20000×1001: 1.0 s, against 1.9 s refactoring a
    dense stack and 1.1 s for ``geqrf`` on a full copy).  Blocks are centred
    and weighted on the fly into one Fortran-ordered work array.

    Parameters
    ----------
    problem : LstsqProblem
    n_rows : int, default=None
        Rows per block; by default about 2**21 numbers and at least four times
        the width of ``[A | B]``.

    Returns
    -------
    R : ndarray of shape (n_features + n_targets, n_features + n_targets)
        Upper triangular, Fortran-ordered.
    """
    d = problem.shape[1]
    width = d + problem.n_targets
    tpqrt = scipy.linalg.get_lapack_funcs("tpqrt", dtype=np.float64)
    if n_rows is None:
        # Blocks of ~2**21 numbers, taller than R, keep LAPACK at full speed.
        n_rows = max(4 * width, 2**21 // width)
    work = np.empty((min(n_rows, problem.shape[0]), width), order="F")
    R = None
    for rows in problem.row_blocks(n_rows):
        size = rows.stop - rows.start
        block = work if size == len(work) else np.empty((size, width), order="F")
        problem.block(rows, block[:, :d], block[:, d:])
        if R is None:
            qr, _ = _geqrf(block)
            R = np.zeros((width, width), order="F")
            R[: min(size, width)] = np.triu(qr[:width])
        else:
            R = tpqrt(0, min(32, width), R, block, overwrite_a=True, overwrite_b=True)[
                0
            ]
    return R


@register("lstsq_solver", "qr")
class QRSolver(Component):
    """Householder QR, then the SVD of the small triangular factor.

    Tall A (n >= d): the QR factorisation of the augmented matrix ``[A | B]``
    is accumulated over row blocks (TSQR): each block, centred and weighted on
    the fly, is folded into the current triangular factor (LAPACK ``tpqrt``).
    The top-left ``R`` and top-right ``QᵀB`` of the final factor define the
    small problem ``min ‖Rx - QᵀB‖``, solved through the SVD of ``R`` (d×d),
    which also gives the singular values of A.  No copy of X is made and
    sparse X is only densified one block at a time.

    Wide A (n < d): the QR factorisation of ``Aᵀ = QR`` (a dense copy of A),
    then ``x = Q (Rᵀ)⁺ B`` through the SVD of ``R`` (n×n).

    Both are backward stable: accuracy ``~ eps·cond(A)``.

    Parameters
    ----------
    block_rows : int, default=None
        Rows per block of the tall factorisation; None chooses about 2**21
        numbers per block.  Memory grows with it, speed hardly.

    Examples
    --------
    >>> import numpy as np
    >>> from skla import PinvRegressor
    >>> X = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])  # rank 1
    >>> PinvRegressor(fit_intercept=False, solver="qr").fit(X, [2, 4, 6]).coef_
    array([1., 1.])
    """

    def __init__(self, block_rows=None):
        self.block_rows = block_rows

    def solve(self, problem, *, alpha, rtol):
        n_samples, n_features = problem.shape
        if n_samples >= n_features:
            return self._solve_tall(problem, alpha, rtol)
        return self._solve_wide(problem, alpha, rtol)

    def _solve_tall(self, problem, alpha, rtol):
        d = problem.shape[1]
        R = _tsqr(problem, self.block_rows)
        U, s, Vt = _svd(R[:d, :d])
        return _solve_from_svd(s, Vt.T, U.T @ R[:d, d:], alpha, rtol, "qr")

    @staticmethod
    def _solve_wide(problem, alpha, rtol):
        n, d = problem.shape
        At = problem.dense().astype(np.float64, copy=False).T  # d×n, Fortran order
        qr, tau = _geqrf(At)
        ormqr = scipy.linalg.get_lapack_funcs("ormqr", (At,))
        # Aᵀ = QR and R = Ur S Vrᵀ give A = Vr S (Q Ur)ᵀ: an SVD of A.
        Ur, s, Vrt = _svd(np.triu(qr[:n, :n]))
        phi, rank = filter_factors(s, alpha, rtol)
        c = np.zeros((d, problem.n_targets), order="F")
        c[:n] = Ur @ (phi[:, None] * (Vrt @ problem.rhs()))
        lwork = int(ormqr("L", "N", qr, tau, c, -1)[1][0])
        coef = ormqr("L", "N", qr, tau, c, max(lwork, 1), overwrite_c=True)[0]
        return LstsqResult(coef, rank, s, "qr")


@dataclass(frozen=True)
class GramFactorisation:
    """The Gram matrix ``AᵀA``, its eigenvalues, and what they say of its accuracy.

    Parameters
    ----------
    G : ndarray of shape (n_features, n_features)
        The computed Gram matrix.
    AtB : ndarray of shape (n_features, n_targets)
    eigenvalues : ndarray of shape (n_features,)
        Eigenvalues of G, ascending.
    noise : float
        Size of the rounding error in the computed Gram matrix (and so in
        each eigenvalue): ``eps * (λ_max + offset_scale)``.
    """

    G: np.ndarray
    AtB: np.ndarray
    eigenvalues: np.ndarray
    noise: float

    def _reference_eigenvalue(self, alpha, rtol):
        lam = self.eigenvalues
        lam_cut = (rtol**2) * max(lam[-1], 0.0)
        kept = lam[lam > lam_cut]
        # The smallest kept eigenvalue bounds the error of the solve; a cut
        # inside the noise cannot tell zero from small, so it counts as well.
        smallest = kept.min() if kept.size else lam_cut
        if kept.size < lam.size:
            smallest = min(smallest, lam_cut)
        return max(smallest, 0.0) + alpha

    def relative_error(self, alpha, rtol):
        """Estimated relative error of the solution, ``noise / (λ_min + alpha)``.

        This is ``eps · cond(A)²`` in the common case (no ridge, no cut): the
        normal equations square the condition number.
        """
        if self.eigenvalues[-1] <= 0:  # A == 0: the answer, 0, is exact
            return 0.0
        reference = self._reference_eigenvalue(alpha, rtol)
        return np.inf if reference <= 0 else self.noise / reference

    def solve(self, alpha, rtol):
        """Filtered solution ``V diag(1/(λ + alpha)) Vᵀ AᵀB`` over kept eigenvalues.

        When nothing is cut this is ``(G + alpha I)⁻¹ AᵀB``, solved directly
        (measured: 0.02 s for d = 1000, against 0.13 s for the eigenvectors).
        """
        lam = self.eigenvalues
        s = np.sqrt(np.clip(lam, 0.0, None))
        # Eigenvalues inside the rounding noise carry no information: treating
        # them as zero keeps exactly rank-deficient problems finite.
        keep = (s > rtol * s[-1]) & (lam > self.noise * lam.size)
        singular_values = s[::-1].copy()
        rank = int(keep.sum())
        # scipy's LAPACK throughout a fit: switching between numpy's and
        # scipy's OpenBLAS thread pools costs up to 2x here (measured: 0.17 s
        # instead of 0.09 s on 200000×100).
        if keep.all():
            try:
                coef = scipy.linalg.solve(
                    self.G + alpha * np.eye(len(lam)),
                    self.AtB,
                    assume_a="pos",
                    check_finite=False,
                )
                return LstsqResult(coef, rank, singular_values, "gram")
            except np.linalg.LinAlgError:  # not numerically positive definite
                pass
        lam, V = scipy.linalg.eigh(self.G, driver="evd", check_finite=False)
        inv = np.zeros_like(lam)
        inv[keep] = 1.0 / (lam[keep] + alpha)
        coef = V @ (inv[:, None] * (V.T @ self.AtB))
        return LstsqResult(coef, rank, singular_values, "gram")


class GramAccuracyWarning(UserWarning):
    """The normal equations cannot deliver the accuracy skla promises here."""


@register("lstsq_solver", "gram")
class GramSolver(Component):
    """Normal equations: eigendecomposition of the Gram matrix ``AᵀA``.

    ``AᵀA`` is accumulated over centred row blocks in float64 (one pass over X,
    no copy); for sparse X it is the sparse product, corrected for centring.
    Then ``AᵀA = V diag(λ) Vᵀ`` and ``x = V diag(1/(λ+alpha)) VᵀAᵀB``
    (a direct solve when no eigenvalue is cut).  The
    fastest solver when n_samples >> n_features, but it squares the condition
    number: its relative error is about ``eps · cond(A)²``.  It estimates that
    error from the eigenvalues and emits a :class:`GramAccuracyWarning` when it
    exceeds :data:`GRAM_TOL`; singular values below ``sqrt(d · eps) · σ_max``
    cannot be resolved and are treated as zero.

    Parameters
    ----------
    block_rows : int, default=None
        Rows per block when forming ``AᵀA`` from dense X; None chooses about
        2**18 numbers (and at least 1024 rows) per block.

    Examples
    --------
    >>> import numpy as np
    >>> from skla import PinvRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 3))
    >>> y = X @ [1.0, 2.0, 3.0] + 4.0
    >>> reg = PinvRegressor(solver="gram").fit(X, y)
    >>> reg.coef_.round(10), reg.intercept_.round(10)
    (array([1., 2., 3.]), np.float64(4.0))
    """

    def __init__(self, block_rows=None):
        self.block_rows = block_rows

    def factorise(self, problem) -> GramFactorisation:
        """Form ``AᵀA`` and ``AᵀB`` and eigendecompose ``AᵀA``.

        Parameters
        ----------
        problem : LstsqProblem

        Returns
        -------
        factorisation : GramFactorisation
        """
        gram = problem.gram(self.block_rows)
        # Eigenvalues alone (no vectors) are cheap and tell the conditioning.
        lam = scipy.linalg.eigh(
            gram.G, eigvals_only=True, driver="evd", check_finite=False
        )
        noise = gram.eps * (max(lam[-1], 0.0) + gram.offset_scale)
        return GramFactorisation(gram.G, gram.AtB, lam, noise)

    def solve(self, problem, *, alpha, rtol):
        factorisation = self.factorise(problem)
        error = factorisation.relative_error(alpha, rtol)
        if error > GRAM_TOL:
            warnings.warn(
                f"solver='gram' squares the condition number of X: the estimated "
                f"relative error of the coefficients is {error:.1e} (X is "
                "ill-conditioned or rank-deficient). Use solver='qr' or 'auto' "
                "for an accurate answer.",
                GramAccuracyWarning,
                stacklevel=3,
            )
        return factorisation.solve(alpha, rtol)


@register("lstsq_solver", "lsqr")
class LSQRSolver(Component):
    """LSQR iterations (:func:`scipy.sparse.linalg.lsqr`) on A as an operator.

    For large sparse X: each iteration costs one product with X and one with
    Xᵀ, centring and weights are applied implicitly, and X is never copied.
    Started from zero, LSQR converges to the minimum-norm solution; ``alpha``
    enters as LSQR's damping ``sqrt(alpha)`` and ``rtol`` as its condition
    limit ``1/rtol``.  It computes no SVD, so ``rank_`` and
    ``singular_values_`` are None.

    Parameters
    ----------
    atol, btol : float, default=1e-12
        LSQR's stopping tolerances (relative residual and normal-equation
        residual).
    max_iter : int, default=None
        Iteration limit per target; None means ``max(1000, 10 * n_features)``.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from skla import PinvRegressor
    >>> X = sp.csr_array([[2.0, 3.0], [1.0, 1.0]])
    >>> reg = PinvRegressor(fit_intercept=False, solver="lsqr").fit(X, [8, 3])
    >>> reg.coef_.round(8)
    array([1., 2.])
    """

    def __init__(self, atol=1e-12, btol=1e-12, max_iter=None):
        self.atol = atol
        self.btol = btol
        self.max_iter = max_iter

    def solve(self, problem, *, alpha, rtol):
        A = problem.operator()
        B = problem.rhs()
        max_iter = self.max_iter or max(1000, 10 * problem.shape[1])
        coef = np.empty((problem.shape[1], B.shape[1]))
        for j in range(B.shape[1]):
            result = lsqr(
                A,
                B[:, j],
                damp=np.sqrt(alpha),
                atol=self.atol,
                btol=self.btol,
                conlim=1.0 / rtol if rtol > 0 else np.inf,
                iter_lim=max_iter,
            )
            coef[:, j], istop = result[0], result[1]
            if istop == 7:
                warnings.warn(
                    f"LSQR reached max_iter={max_iter} before its tolerances "
                    f"(atol={self.atol}, btol={self.btol}); increase max_iter or "
                    "use solver='qr'.",
                    ConvergenceWarning,
                    stacklevel=3,
                )
        return LstsqResult(coef, None, None, "lsqr")


@register("lstsq_solver", "auto")
class AutoSolver(Component):
    """The fastest solver that is accurate for the data at hand.

    1. When ``n_samples >= n_features``, form the Gram matrix (one pass over
       X) and eigendecompose it.  If its eigenvalues show that the normal
       equations are accurate to :data:`GRAM_TOL` (roughly ``cond(A) < 2000``
       in float64, with no singular value lost in rounding noise), use them.
    2. Otherwise use the backward-stable :class:`QRSolver`; for sparse X whose
       block-wise QR would cost more than ~2e10 flops, :class:`LSQRSolver`.

    The method used is reported as ``solver_used_`` on the fitted estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from skla import PinvRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3))
    >>> PinvRegressor().fit(X, X @ [1.0, 2.0, 3.0]).solver_used_
    'gram'
    >>> X[:, 2] = X[:, 0] + X[:, 1]  # rank-deficient
    >>> PinvRegressor().fit(X, X @ [1.0, 2.0, 3.0]).solver_used_
    'qr'
    """

    def solve(self, problem, *, alpha, rtol):
        n_samples, n_features = problem.shape
        tall = n_samples >= n_features
        if tall and (not problem.is_sparse or n_features <= _SPARSE_GRAM_MAX_FEATURES):
            factorisation = GramSolver().factorise(problem)
            if factorisation.relative_error(alpha, rtol) <= GRAM_TOL:
                return factorisation.solve(alpha, rtol)
        if not problem.is_sparse or (
            tall and n_samples * n_features**2 <= _SPARSE_QR_MAX_FLOPS
        ):
            return QRSolver().solve(problem, alpha=alpha, rtol=rtol)
        return LSQRSolver().solve(problem, alpha=alpha, rtol=rtol)
