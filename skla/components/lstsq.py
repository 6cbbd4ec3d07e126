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
``gram``  Cholesky (or eigenvalues) of AᵀA, formed block-wise ~ eps·cond(A)²
``lsqr``  LSQR iterations on A as a linear operator           iterative
``auto``  ``gram`` when its condition estimate (or, where    as ``qr``
          that cannot tell, its eigenvalues) shows it is
          accurate to 1e-9, otherwise ``qr`` (or ``lsqr``
          for sparse X too large to factor)
========  ==================================================  ================

A solver is any object with a ``solve`` method (:class:`LstsqSolver`); it is
registered under a name with :func:`skla.register` or the entry-point group
``skla.lstsq_solvers``.  The built-ins here are thin: the numerics are in
:mod:`skla._algorithms.lstsq` and :mod:`skla._algorithms.qr`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from .._algorithms.lstsq import (
    GramFactorisation,
    filter_factors,
    lsqr_solve,
    qr_solve,
    svd_solve,
)
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
    singular_values : ndarray of shape (min(n_samples, n_features),), callable or None
        Singular values of A in decreasing order; or a function of no
        arguments that computes them, for a solver that did not need them
        (``singular_values_`` then calls it when first read); None if not
        computed.
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
    singular_values: np.ndarray | Callable[[], np.ndarray] | None
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


@register("lstsq_solver", "svd")
class SVDSolver(Component):
    """LAPACK singular value decomposition of the centred, weighted copy of X.

    The reference method: ``A = U diag(s) Vᵀ`` by ``gesdd`` in float64, then
    the filtered solution.  It needs dense X and a copy of it in float64 (or
    ``copy_X=False`` on float64 X).

    Examples
    --------
    >>> import numpy as np
    >>> from skla import PinvRegressor
    >>> X = np.array([[2.0, 3.0], [1.0, 1.0]])
    >>> PinvRegressor(fit_intercept=False, solver="svd").fit(X, [8, 3]).coef_
    array([1., 2.])
    """

    def solve(self, problem, *, alpha, rtol):
        return LstsqResult(*svd_solve(problem, alpha, rtol), "svd")


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
        return LstsqResult(*qr_solve(problem, alpha, rtol, self.block_rows), "qr")


def certified_result(factorisation, alpha, rtol):
    """The Gram route's result where Cholesky certifies it (see
    :meth:`~skla._algorithms.gram.GramFactorisation.certified_solve`), its
    singular values deferred to their first read; else None."""
    certified = factorisation.certified_solve(alpha, rtol, GRAM_TOL)
    if certified is None:
        return None
    return LstsqResult(*certified, factorisation.singular_values, "gram")


class GramAccuracyWarning(UserWarning):
    """The normal equations cannot deliver the accuracy skla promises here."""


@register("lstsq_solver", "gram")
class GramSolver(Component):
    """Normal equations: the Gram matrix ``AᵀA``, by Cholesky or eigenvalues.

    ``AᵀA`` is accumulated over centred row blocks in float64 (one pass over X,
    no copy); for sparse X it is the sparse product, corrected for centring.
    The fastest solver when n_samples >> n_features, but it squares the
    condition number: its relative error is about ``eps · cond(A)²``.

    Where a Cholesky factor and its condition estimate show that error to be
    below :data:`GRAM_TOL` with nothing to cut, ``x = (AᵀA + alpha I)⁻¹AᵀB``
    by that factor, and the eigenvalues (``singular_values_``) are computed
    only when read (:mod:`skla._algorithms.gram`).  Otherwise
    ``AᵀA = V diag(λ) Vᵀ`` and ``x = V diag(1/(λ+alpha)) VᵀAᵀB`` over the
    kept eigenvalues; the error estimated from them above :data:`GRAM_TOL`
    emits a :class:`GramAccuracyWarning`, and singular values below
    ``sqrt(d · eps) · σ_max`` cannot be resolved and are treated as zero.

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
        """Form ``AᵀA`` and ``AᵀB`` (factored when asked to solve).

        Parameters
        ----------
        problem : LstsqProblem

        Returns
        -------
        factorisation : GramFactorisation
        """
        return GramFactorisation.of(problem, self.block_rows)

    def solve(self, problem, *, alpha, rtol):
        factorisation = self.factorise(problem)
        certified = certified_result(factorisation, alpha, rtol)
        if certified is not None:
            return certified
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
        return LstsqResult(*factorisation.solve(alpha, rtol), "gram")


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
        max_iter = self.max_iter or max(1000, 10 * problem.shape[1])
        coef = lsqr_solve(
            problem, alpha, rtol, atol=self.atol, btol=self.btol, max_iter=max_iter
        )
        return LstsqResult(coef, None, None, "lsqr")


@register("lstsq_solver", "auto")
class AutoSolver(Component):
    """The fastest solver that is accurate for the data at hand.

    1. When ``n_samples >= n_features``, form the Gram matrix (one pass over
       X).  If its Cholesky factor's condition estimate -- or, where that
       cannot tell, its eigenvalues -- show that the normal equations are
       accurate to :data:`GRAM_TOL` (roughly ``cond(A) < 2000`` in float64,
       with no singular value lost in rounding noise), use them.
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
            certified = certified_result(factorisation, alpha, rtol)
            if certified is not None:
                return certified
            if factorisation.relative_error(alpha, rtol) <= GRAM_TOL:
                return LstsqResult(*factorisation.solve(alpha, rtol), "gram")
        if not problem.is_sparse or (
            tall and n_samples * n_features**2 <= _SPARSE_QR_MAX_FLOPS
        ):
            return QRSolver().solve(problem, alpha=alpha, rtol=rtol)
        return LSQRSolver().solve(problem, alpha=alpha, rtol=rtol)
