r"""Mergeable statistics of weighted rows: exact least squares from chunks.

Least squares, ridge and the SVD of a tall matrix depend on the rows only
through small statistics.  :class:`RowStatistics` keeps, for the rows
``zᵢ = [xᵢ, yᵢ]`` seen so far with weights ``wᵢ``:

- the total weight ``W = Σ wᵢ`` and the number of rows,
- the weighted mean ``μ`` (zero without centring),
- the R factor of the centred, weighted rows: ``RᵀR = Σ wᵢ (zᵢ - μ)(zᵢ - μ)ᵀ``.

Two sets of rows merge exactly (Chan, Golub & LeVeque's pairwise update,
written for R factors): with ``δ = μ_b - μ_a``,

.. math::

    R = \operatorname{qr}\begin{bmatrix} R_a \\ R_b \\
        \sqrt{W_a W_b / W}\, \delta^\top \end{bmatrix},

so chunks can be folded in one at a time (``partial_fit``) or reduced in a
tree (a cluster).  The R factor is what a QR of all the rows would give
(backward stable; its singular values are those of the centred data), so
the answers keep QR's accuracy, ``eps · cond``, where the Gram matrix would
give ``eps · cond²``.  The state is ``(d + k)²`` numbers, whatever the
number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs import min_max_axis

from .._data import LstsqProblem, weighted_mean
from .gram import certified_cholesky
from .lstsq import GramFactorisation, solve_from_svd, thin_svd
from .objectives import QuadraticObjective
from .qr import augmented_r, householder
from .scaling import power_of_two_scale

__all__ = ["RowStatistics", "ScatterRangeError"]


class ScatterRangeError(ValueError):
    """Data whose squares would over- or underflow in a scatter matrix."""


@dataclass(frozen=True)
class RowStatistics:
    """Weight, mean and centred R factor of the rows ``[X, Y]`` seen so far.

    Build one with :meth:`of` from a chunk, combine with :meth:`merge`;
    both return new objects (a failed update leaves the old one intact).

    Attributes
    ----------
    n_features, n_targets : int
    n_rows : int
        Rows seen (zero-weight rows included).
    weight : float
        Their total weight.
    mean : ndarray of shape (n_features + n_targets,) or None
        The weighted mean of ``[x, y]``; None without centring.
    R : ndarray of shape (n_features + n_targets,) * 2, or None
        Upper triangular, ``RᵀR`` the centred, weighted scatter matrix.
    S : ndarray of shape (n_features + n_targets,) * 2, or None
        That scatter matrix itself, kept instead of R with ``gram=True``:
        four times cheaper to form, but it squares the condition number
        (fine for an iterative solver on the Gram matrix, as GDRegressor's
        fit uses; not for the pseudo-inverse of an ill-conditioned X).
    low, high : ndarray of shape (n_features,) or None
        Each column's smallest and largest value, kept with ``ranges=True``
        (constant columns are those whose range is rounding noise of their
        mean; a pass over each chunk, so only for those who need it).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((100, 3)), rng.standard_normal((100, 1))
    >>> halves = [RowStatistics.of(X[s], Y[s], None, centre=True)
    ...           for s in (slice(0, 60), slice(60, None))]
    >>> merged = halves[0].merge(halves[1])
    >>> Z = np.hstack([X, Y]) - np.hstack([X, Y]).mean(0)
    >>> np.allclose(merged.R.T @ merged.R, Z.T @ Z)
    True
    """

    n_features: int
    n_targets: int
    n_rows: int
    weight: float
    mean: np.ndarray | None
    R: np.ndarray | None
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    S: np.ndarray | None = None
    offset_scale: float = 0.0  # the largest terms the scatter's centring cancelled

    @classmethod
    def of(
        cls, X, Y, sample_weight, *, centre, ranges=False, gram=False, cholesky_tol=None
    ):
        """The statistics of one chunk (dense or sparse X, float32 or 64).

        The chunk is centred block by block (no cancellation, no copy of X
        beyond one block) and factored by TSQR.  ``ranges`` also keeps each
        column's range; ``gram`` keeps the scatter matrix (by row blocks, as
        fit's Gram) instead of R.  With ``cholesky_tol``, R is the Cholesky
        factor of the scatter matrix where its condition estimate certifies
        the normal equations to that tolerance
        (:func:`~skla._algorithms.gram.certified_cholesky`: the least-squares
        answer is then as accurate as ``"auto"``'s Gram route), for about a
        third of TSQR's time; TSQR otherwise.
        """
        n, d = X.shape
        k = Y.shape[1]
        weight = float(n if sample_weight is None else sample_weight.sum())
        low, high = _column_range(X) if ranges else (None, None)
        if not weight > 0:  # rows without weight carry nothing
            zero = np.zeros((d + k, d + k))
            mean = np.zeros(d + k) if centre else None
            if gram:
                return cls(d, k, n, 0.0, mean, None, low, high, zero)
            return cls(d, k, n, 0.0, mean, zero, low, high)
        extreme = _extreme(X, Y) if gram or cholesky_tol is not None else None
        if gram and extreme:
            _refuse_extreme(extreme)
        # X's mean is computed by the pass that reads X first (see
        # LstsqProblem's X_offset="mean").
        Y_mean = weighted_mean(Y, sample_weight) if centre else None
        problem = LstsqProblem(X, Y, sample_weight, "mean" if centre else None, Y_mean)

        def mean():
            return (
                None if Y_mean is None else np.concatenate([problem.X_offset, Y_mean])
            )

        if gram or (cholesky_tol is not None and not extreme):
            S, offset_scale = _scatter(problem)
            if gram:
                if not np.isfinite(S).all():  # a row the sample missed
                    _refuse_extreme("X or y")
                return cls(d, k, n, weight, mean(), None, low, high, S, offset_scale)
            eps = float(np.finfo(np.float64).eps)
            R = certified_cholesky(
                S, eps=eps, offset_scale=offset_scale, tol=cholesky_tol
            )
            if R is not None:
                return cls(d, k, n, weight, mean(), np.triu(R), low, high)
        R = augmented_r(problem) if n else np.zeros((d + k, d + k))
        return cls(d, k, n, weight, mean(), np.asarray(R), low, high)

    @property
    def centred(self) -> bool:
        """Whether the rows are centred (an intercept is fitted)."""
        return self.mean is not None

    def merge(self, other):
        """The statistics of both sets of rows (exact, see the module)."""
        if (other.n_features, other.n_targets) != (self.n_features, self.n_targets):
            raise ValueError(
                f"Cannot merge the statistics of rows with {other.n_features} "
                f"features and {other.n_targets} targets into those of rows "
                f"with {self.n_features} features and {self.n_targets} targets."
            )
        if (self.R is None) != (other.R is None):
            raise ValueError("Cannot merge R-factor and scatter-matrix statistics.")
        weight = self.weight + other.weight
        stack = [self.R, other.R]
        S = None if self.S is None else self.S + other.S
        offset_scale = self.offset_scale + other.offset_scale
        mean = None
        if self.centred:
            mean = self.mean if self.weight > 0 else other.mean
            if other.weight > 0 and self.weight > 0:
                delta = other.mean - self.mean
                mean = self.mean + delta * (other.weight / weight)
                # The scatter of the two means about the merged one.
                root = np.sqrt(self.weight * other.weight / weight)
                stack.append((root * delta)[None, :])
                if S is not None:
                    S = S + np.outer(root * delta, root * delta)
                    offset_scale += float(
                        np.sum((root * delta[: self.n_features]) ** 2)
                    )
        R = None
        if self.R is not None:
            R = householder(np.asfortranarray(np.vstack(stack)))[2]
        return replace(
            self,
            n_rows=self.n_rows + other.n_rows,
            weight=weight,
            mean=mean,
            R=R,
            S=S,
            offset_scale=offset_scale,
            low=None if self.low is None else np.minimum(self.low, other.low),
            high=None if self.high is None else np.maximum(self.high, other.high),
        )

    def scatter(self):
        """``Σ wᵢ (zᵢ - μ)(zᵢ - μ)ᵀ``, the centred, weighted scatter of [X, Y]."""
        return self.S if self.S is not None else self.R.T @ self.R

    def solve(self, alpha, rtol):
        """The minimum-norm (ridge) least-squares fit of Y on X, centred.

        Returns
        -------
        coef : ndarray of shape (n_features, n_targets)
        intercept : ndarray of shape (n_targets,) or None
            ``ν - μᵀ coef`` with centring, else None.
        rank : int
        singular_values : ndarray of shape (min(n_rows, n_features),)
            Those of the centred, weighted X, decreasing.
        error : float
            The estimated relative error of ``coef``: ``eps · cond`` from R
            (QR's backward stability), the Gram estimate from S
            (:meth:`~skla._algorithms.lstsq.GramFactorisation.relative_error`).
        """
        d = self.n_features
        if self.R is not None:
            U, s, Vt = thin_svd(self.R[:d, :d])
            UtB = U.T @ self.R[:d, d:]
            coef, rank, s = solve_from_svd(s, Vt.T, UtB, alpha, rtol)
            kept = s[:rank]
            error = np.finfo(np.float64).eps * (kept[0] / kept[-1] if rank else 1.0)
        else:
            gram = GramFactorisation.of_scatter(
                self.S[:d, :d], self.S[:d, d:], self.offset_scale
            )
            coef, rank, s = gram.solve(alpha, rtol)
            error = gram.relative_error(alpha, rtol)
        intercept = None
        if self.centred:
            intercept = self.mean[d:] - self.mean[:d] @ coef
        return coef, intercept, rank, s[: min(self.n_rows, d)], error

    def quadratic_objective(self, dtype):
        """GDRegressor's squared-loss objective on these rows (see
        :func:`~skla._algorithms.objectives.regression_objective`): the
        blocks of the scatter matrix, divided by the weight."""
        d = self.n_features
        S, W = self.scatter(), self.weight
        c = float(np.trace(S[d:, d:])) / W
        constant = np.zeros(d, dtype=bool)
        if self.centred and self.low is not None:
            resolution = 4 * np.finfo(dtype).eps * np.abs(self.mean[:d])
            constant = self.high - self.low <= resolution
        return QuadraticObjective(S[:d, :d] / W, S[:d, d:] / W, c, constant)

    def right_svd(self):
        """The SVD of the rows X themselves (uncentred): ``X = U Σ Vᵀ``.

        From the R factor of X, uncentred exactly as ``qr([R; √W μᵀ])``
        when the statistics are centred.  Returns the singular values
        (``min(n_rows, n_features)`` of them, decreasing), ``Vᵀ`` and the
        left vectors of R (for :func:`~sklearn.utils.extmath.svd_flip`).
        """
        d = self.n_features
        R = self.R[:d, :d]
        if self.centred:
            mean_row = np.sqrt(self.weight) * self.mean[None, :d]
            R = householder(np.asfortranarray(np.vstack([R, mean_row])))[2]
        U, s, Vt = thin_svd(R)
        k = min(self.n_rows, d)
        return U[:, :k], s[:k], Vt[:k]

    def svd_figures(self, Vt):
        """Variance of the coordinates ``X vⱼ`` and the total variance of X
        (population variances, as ``np.var``), from the centred R factor."""
        d = self.n_features
        Rc = self.R[:d, :d]
        variance = np.sum((Rc @ Vt.T) ** 2, axis=0) / self.weight
        return variance, float(np.sum(Rc**2)) / self.weight


def _extreme(X, Y):
    """``"X"`` or ``"y"`` where its strided sample (the one that decides
    fit's rescaling; no full pass) finds entries beyond 1e±60, else None."""
    for name, data in (("X", X), ("y", Y)):
        if power_of_two_scale(data) != 1.0:
            return name
    return None


def _refuse_extreme(name):
    """Refuse entries whose squares over- or underflow in the scatter matrix
    (``fit`` rescales such data by a power of two; a stream cannot, since
    later chunks may differ)."""
    raise ScatterRangeError(
        f"{name} has entries beyond 1e±60: their squares would over- or "
        "underflow in the streamed scatter matrix. Rescale the data (e.g. by "
        "a power of two); PinvRegressor's other solvers stream the R factor "
        "instead."
    )


def _scatter(problem):
    """The scatter matrix of the centred, weighted ``[A | B]`` by row blocks,
    and the size of the terms its centring cancelled (sparse X)."""
    d, k = problem.shape[1], problem.n_targets
    S = np.empty((d + k, d + k))
    gram = problem.gram()
    B = problem.rhs()
    # Element-wise, not numpy's BLAS: it would wake numpy's thread pool
    # between two of scipy's (see skla._data.gram).
    S[:d, :d], S[:d, d:] = gram.G, gram.AtB
    S[d:, d:] = np.einsum("ik,il->kl", B, B)
    S[d:, :d] = gram.AtB.T
    return S, gram.offset_scale


def _column_range(X):
    """Each column's minimum and maximum in float64 (implicit zeros count)."""
    if X.shape[0] == 0:
        return np.full(X.shape[1], np.inf), np.full(X.shape[1], -np.inf)
    if sp.issparse(X):
        low, high = min_max_axis(sp.csc_matrix(X), axis=0)
    else:
        low, high = X.min(axis=0), X.max(axis=0)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
