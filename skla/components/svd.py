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

The components choose a route; the numerics are in :mod:`skla._algorithms.svd`
(exact, skinny and Lanczos) and :mod:`skla._algorithms.randomized_svd`.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from .._algorithms._linalg import sum_of_squares
from .._algorithms.lanczos import krylov_svd
from .._algorithms.randomized_svd import RangeFinder, generator
from .._algorithms.svd import (
    SkinnySVD,
    full_svd,
    full_svd_energy,
    is_skinny,
    top,
)
from ..plugins import register
from ._base import Component

__all__ = [
    "AUTO_TOL",
    "AutoSVD",
    "BlockLanczosSVD",
    "FullSVD",
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

    Optional keyword an estimator passes when ``svd`` accepts it:

    - ``squared_norm``: ``‖X‖_F²``, which the estimator has computed anyway
      (for its figures) and a solver with an error-based stopping rule
      needs.
    - ``compute_u``: False when the estimator needs no left vectors; the
      solver may then return None for U and save an m × k array.  Also
      passed to ``svd_energy``.

    The left vectors returned must satisfy ``X V = U diag(s)`` to rounding
    (the estimator reads its figures, those of ``transform(X) = X V``, from
    ``U diag(s)``).  An exact SVD, or a Lanczos method's Ritz vectors, do; a
    randomized range finder's ``Q Ũ`` does not: such a solver returns None
    for U when ``compute_u`` is False, and the estimator projects X itself.

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

    def svd(self, X, n_components, *, random_state=None):
        return SVDResult(*self._triplets(X, n_components=n_components))

    def svd_energy(self, X, fraction, *, random_state=None):
        return SVDResult(*self._triplets(X, fraction=fraction))

    @staticmethod
    def _triplets(X, *, n_components=None, fraction=None):
        if fraction is not None:
            return full_svd_energy(X, fraction)
        return top(full_svd(X), n_components)


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

    def svd(self, X, n_components, *, random_state=None, compute_u=True):
        if is_skinny(X):
            # A side of at most 200: the exact SVD of the R factor costs
            # less time and memory than an m × (k + p) basis.
            return SVDResult(*SkinnySVD().svd(X, n_components, compute_u=compute_u))
        finder = RangeFinder(self.n_oversamples, self.n_iter)
        U, s, Vt = finder.svd(X, n_components, random_state=random_state)
        # Q Ũ is not X V Σ⁻¹ (the range is approximate): none, unless asked.
        return SVDResult(U if compute_u else None, s, Vt)

    def svd_energy(self, X, fraction, *, random_state=None, block=32, compute_u=True):
        """Grow the basis ``block`` columns at a time until its top triplets hold
        ``fraction`` of ‖X‖_F² -- with the oversampling to spare.

        The rank-k approximation returned, ``Q Qᵀ X`` cut to its top k
        triplets, holds at least that fraction exactly (its squared singular
        values are what is counted), so the guarantee does not rest on the
        approximation being optimal; a loose basis can only make k larger.
        A tall or wide X with a side of at most 200 takes the exact SVD of its
        R factor instead (:class:`~skla._algorithms.svd.SkinnySVD`), here as
        in :meth:`svd`.
        """
        if is_skinny(X):
            # The basis would span most of the small side: the exact SVD of
            # the R factor is cheaper, and holds no m×l basis (3.5× X at 0.9
            # on 200000×100).
            skinny = SkinnySVD().svd_energy(X, fraction, compute_u=compute_u)
            return SVDResult(*skinny)
        finder = RangeFinder(self.n_oversamples, self.n_iter)
        U, s, Vt = finder.svd_energy(
            X, fraction, random_state=random_state, block=block
        )
        return SVDResult(U if compute_u else None, s, Vt)


#: The block Lanczos tolerance of "auto": stop when a step adds at most this
#: share of the error left.  Measured on the bundled photos at 3024 × 4032,
#: ranks 1 to 64: every error within 1.0002 of the Eckart–Young optimum
#: (1e-2 reached 1.06 at block 1 and 1.002 at the chosen blocks).
AUTO_TOL = 1e-3


@register("svd_solver", "auto")
class AutoSVD(Component):
    """Block Lanczos until the error stops falling; exact where that is cheaper.

    A rank, dense or sparse X: block Golub–Kahan–Lanczos
    (:class:`BlockLanczosSVD`), stopped when a block adds at most
    ``AUTO_TOL`` = 1e-3 of the error still left to the kept energy and no
    value moved by more than 1e-4 of itself.  On photographs (the bundled
    ones at 3024 × 4032, ranks 1 to 64) that is within 1.0002 of the
    Eckart–Young optimum and every singular value within 1e-3, in 3 to 12
    blocks of one to 16 columns.  On spectra without decay (Gaussian noise)
    the last values may be off by a little more (1.4e-3 at rank 1 on
    2000 × 1000).  The energy criterion (``n_components`` a fraction) takes
    the randomized range finder with the basis oversampled by
    ``max(n_oversamples, k)`` and ``n_iter`` power iterations ("auto": 4),
    as do dask and array-API inputs.  Small matrices (``min(m, n) <= 200``)
    or ranks above a quarter of ``min(m, n)`` use an exact SVD instead: for
    a tall or wide X the SVD of its R factor
    (:class:`~skla._algorithms.svd.SkinnySVD`: no copy of X, only the k
    returned left vectors, none with ``compute_u=False``), else LAPACK's.

    Parameters
    ----------
    n_oversamples : int, default=10
        The least oversampling of the randomized route.
    n_iter : int or "auto", default="auto"
        Power iterations of the randomized route; "auto" is 4.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 300)) * 0.9 ** np.arange(300)  # decaying
    >>> s = AutoSVD().svd(X, 5, random_state=0).s
    >>> np.allclose(s, np.linalg.svd(X, compute_uv=False)[:5], rtol=1e-3)
    True
    """

    def __init__(self, n_oversamples=10, n_iter="auto"):
        self.n_oversamples = n_oversamples
        self.n_iter = n_iter

    def _randomized(self):
        """The randomized solver, configured by plain options."""
        n_iter = 4 if self.n_iter == "auto" else int(self.n_iter)
        return RangeFinder(self.n_oversamples, n_iter, oversample_rank=True)

    @staticmethod
    def _exact(X, *, n_components=None, fraction=None, compute_u=True):
        """The exact triplets for ``n_components`` or ``fraction``: skinny X
        by its R factor, else LAPACK on X (which forms U)."""
        m, n = X.shape
        if max(m, n) < 4 * min(m, n):
            return FullSVD._triplets(X, n_components=n_components, fraction=fraction)
        if fraction is not None:
            return SkinnySVD().svd_energy(X, fraction, compute_u=compute_u)
        return SkinnySVD().svd(X, n_components, compute_u=compute_u)

    def svd(
        self, X, n_components, *, random_state=None, squared_norm=None, compute_u=True
    ):
        # The exact route for small X or large ranks is the Lanczos solver's.
        return BlockLanczosSVD(tol=AUTO_TOL).svd(
            X,
            n_components,
            random_state=random_state,
            squared_norm=squared_norm,
            compute_u=compute_u,
        )

    def svd_energy(self, X, fraction, *, random_state=None, block=32, compute_u=True):
        if min(X.shape) <= 200:
            exact = self._exact(X, fraction=fraction, compute_u=compute_u)
            return SVDResult(*exact)
        U, s, Vt = self._randomized().svd_energy(
            X, fraction, random_state=random_state, block=block
        )
        return SVDResult(U if compute_u else None, s, Vt)  # as RandomizedSVD


@register("svd_solver", "lanczos")
class BlockLanczosSVD(Component):
    """Block Golub–Kahan–Lanczos with full reorthogonalisation.

    Builds orthonormal bases of the block Krylov spaces of ``X Xᵀ`` and
    ``Xᵀ X`` one block at a time (one pass over X and one over Xᵀ per
    block, on numpy's BLAS) and stops when a step adds at most ``tol`` of
    the error still left, ``‖X‖_F² − Σ_{i≤k} θ_i²``, to the kept energy
    (:mod:`skla._algorithms.lanczos`).  The block is a vector at rank 1,
    two columns up to rank 8, then ``k/2`` up to 16; it is doubled when
    ``b`` equal Ritz values suggest a repeated singular value met fewer
    times than it counts.  Blocks of one or two columns read X once a step
    (``Xᵀ (X V)`` by row blocks in the cache,
    :mod:`skla._algorithms.lanczos_gram`) and may stop a step sooner, when
    the Ritz residuals already bound the values within ``tol``.  Ranks
    above a quarter of ``min(m, n)``, or a small side of at most 200, take
    the exact route of :class:`AutoSVD`.  Sparse X is multiplied as it is.
    In float32, a result whose last value is below 1.2e-4 of the first is
    redone in float64 on a copy: float32 products cannot resolve it.

    Parameters
    ----------
    tol : float, default=1e-3
        The stopping share; 0 runs until a step adds nothing above rounding.
    block : int or None, default=None
        The first block width; None picks it from the rank.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 300)) * 0.9 ** np.arange(300)
    >>> s = BlockLanczosSVD(tol=0.0).svd(X, 4, random_state=0).s
    >>> np.allclose(s, np.linalg.svd(X, compute_uv=False)[:4], rtol=1e-10)
    True
    """

    def __init__(self, tol=1e-3, block=None):
        self.tol = tol
        self.block = block

    def svd(
        self, X, n_components, *, random_state=None, squared_norm=None, compute_u=True
    ):
        if not (isinstance(self.tol, Real) and self.tol >= 0):
            raise ValueError(f"tol must be a real number >= 0; got {self.tol!r}.")
        if self.block is not None and not (
            isinstance(self.block, Integral) and self.block >= 1
        ):
            raise ValueError(
                f"block must be None or an integer >= 1; got {self.block!r}."
            )
        if min(X.shape) <= 200 or 4 * n_components > min(X.shape):
            exact = AutoSVD._exact(X, n_components=n_components, compute_u=compute_u)
            return SVDResult(*exact)
        if squared_norm is None:
            squared_norm = sum_of_squares(X)
        return SVDResult(
            *krylov_svd(
                X,
                n_components,
                tol=self.tol,
                squared_norm=squared_norm,
                rng=generator(random_state),
                block=self.block,
            )
        )
