r"""The smooth part of GDRegressor's objective, as the solver sees it.

The smooth part is ``f(θ) = φ(Mθ)`` with ``M`` linear: an *objective* has
``forward(θ) = Mθ`` and ``value``/``gradient`` given θ and Mθ, so that the
solver applies ``M`` once per trial point (see :mod:`.fista`).

- :class:`QuadraticObjective` -- the squared loss on the d×d Gram matrix of
  the centred data: O(d²) per iteration whatever the number of rows;
- :class:`LossObjective` -- any loss on X itself, centred implicitly.

:func:`regression_objective` picks one for a least-squares problem and a
loss, and :func:`coefficients` reads ``(coef, intercept)`` off the solution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg

from .._data import centred_dot, centred_tdot, constant_columns
from ._linalg import power_iteration, sum_of_squares

__all__ = [
    "LossObjective",
    "PosedObjective",
    "QuadraticObjective",
    "coefficients",
    "posed_on_rows",
    "posed_on_statistics",
    "regression_objective",
]

# The squared loss iterates on the d×d Gram matrix (O(d²) per iteration
# instead of a pass over X) up to this many features, and beyond it while
# dense X has at least as many rows as columns.
GRAM_MAX_FEATURES = 4096


@dataclass
class QuadraticObjective:
    """``f(β) = ½ tr(βᵀHβ) - tr(βᵀh) + ½c``: the mean squared loss via the Gram matrix.

    ``H = AᵀA / W``, ``h = AᵀB / W`` and ``c = ‖B‖² / W`` for the centred,
    weighted problem of :class:`~skla._data.LstsqProblem`
    with total weight ``W``: each iteration costs O(d²) instead of a pass
    over X.
    """

    H: np.ndarray
    h: np.ndarray
    c: float
    constant: np.ndarray | None = None  # columns constant up to rounding
    n_penalized: int = field(init=False)

    def __post_init__(self):
        self.n_penalized = len(self.H)

    def constant_columns(self):
        """The columns marked ``constant`` (none if not given)."""
        if self.constant is None:
            return np.zeros(self.n_penalized, dtype=bool)
        return self.constant

    def forward(self, beta):
        """``Hβ``: the linear part, carried along by the solver."""
        return self.H @ beta

    @property
    def cancelled(self):
        """The size of the terms :meth:`value` cancels (``½c``): its rounding
        noise is relative to this, not to the value."""
        return 0.5 * abs(self.c)

    def value(self, beta, H_beta):
        quadratic = 0.5 * np.sum(beta * H_beta) - np.sum(beta * self.h)
        return float(quadratic + 0.5 * self.c)

    def gradient(self, beta, H_beta):
        return H_beta - self.h

    def excess(self, diff, H_diff, f_z, g_z, f_new):
        """``f(z + d) - f(z) - ∇f(z)ᵀd``, exactly ``½ dᵀHd`` for a quadratic.

        Computed from the values it would cancel to rounding noise near the
        optimum (``c`` can be 1e6 times ``f``) and stall a line search.
        """
        return 0.5 * float(np.sum(diff * H_diff))

    def curvature(self):
        """Diagonal of the Hessian."""
        return np.diag(self.H).copy()

    def lipschitz(self, scale):
        """Largest eigenvalue of ``diag(√scale) H diag(√scale)`` (exact: H is small)."""
        root = np.sqrt(scale)
        M = root[:, None] * self.H * root[None, :]
        return float(scipy.linalg.eigh(M, eigvals_only=True, check_finite=False)[-1])


@dataclass
class LossObjective:
    """``f(θ) = loss(Y, (X - μ)β + c, v)`` on X itself, for any loss.

    ``θ`` stacks the coefficients β (d rows) and, with an intercept, the
    offset ``c`` (one row).  Centring X by the weighted mean ``μ`` (applied
    implicitly, X is never copied) leaves the optimum unchanged -- ``c`` is
    free -- and decouples ``c`` from β in the curvature.
    """

    X: object
    Y: np.ndarray
    weights: np.ndarray  # normalised to sum to one
    loss: object
    X_offset: np.ndarray | None
    fit_intercept: bool
    curvatures: np.ndarray  # Σ v (x - μ)², per column
    n_penalized: int = field(init=False)

    def __post_init__(self):
        self.n_penalized = self.X.shape[1]

    def forward(self, theta):
        """The predictions ``(X - μ)β + c``: the linear part, carried along."""
        P = centred_dot(self.X, theta[: self.n_penalized], self.X_offset)
        if self.fit_intercept:
            P += theta[self.n_penalized]
        return P

    cancelled = 0.0  # the value is a mean of non-negative terms

    def value(self, theta, P):
        return self.loss.value(self.Y, P, self.weights)

    def gradient(self, theta, P):
        G = np.asarray(self.loss.gradient(self.Y, P, self.weights), dtype=np.float64)
        grad_beta = centred_tdot(self.X, G, self.X_offset)
        if self.fit_intercept:
            return np.vstack([grad_beta, G.sum(axis=0)])
        return grad_beta

    def excess(self, diff, P_diff, f_z, g_z, f_new):
        """``f(z + d) - f(z) - ∇f(z)ᵀd`` from the values."""
        return f_new - f_z - float(np.sum(g_z * diff))

    def curvature(self):
        c = self.curvatures
        return np.append(c, 1.0) if self.fit_intercept else c.copy()

    def constant_columns(self):
        """Columns that are constant up to rounding noise (see
        :func:`~skla._data.constant_columns`)."""
        return constant_columns(self.X, self.X_offset, self.curvatures)

    def lipschitz(self, scale):
        """Largest eigenvalue of the scaled ``AᵀVA`` (power iteration)."""
        d = self.n_penalized
        root = np.sqrt(scale[:d])

        def apply(u):
            Av = centred_dot(self.X, root * u, self.X_offset) * self.weights
            return root * centred_tdot(self.X, Av, self.X_offset)

        lam = power_iteration(apply, d, n_iter=20)
        # The intercept's block is 1 (times its scale) and decoupled.
        return max(lam, float(scale[d])) if self.fit_intercept else lam


def _uses_gram(problem, loss):
    n_samples, n_features = problem.shape
    return bool(getattr(loss, "quadratic", False)) and (
        n_features <= GRAM_MAX_FEATURES
        or (not problem.is_sparse and n_features <= n_samples)
    )


def regression_objective(problem, loss, *, fit_intercept, coef=None, intercept=None):
    """The smooth objective of a regression and the point to start from.

    Parameters
    ----------
    problem : LstsqProblem
        The centred (with an intercept), weighted data; the loss is the
        weighted mean ``Σ wᵢ ℓᵢ / Σ wᵢ``.
    loss : object
        A loss component; a ``quadratic`` one works on the Gram matrix.
    fit_intercept : bool
    coef : ndarray of shape (n_features, n_targets), default=None
        A warm start (zeros if None), with ``intercept`` of shape (n_targets,).

    Returns
    -------
    objective : QuadraticObjective or LossObjective
    theta0 : ndarray
        The starting point: ``coef``, stacked over the offset of the centred
        data when a :class:`LossObjective` fits the intercept.

    Examples
    --------
    >>> import numpy as np
    >>> from skla._data import LstsqProblem
    >>> from skla.components.losses import SquaredError
    >>> X, Y = np.array([[0.0], [1.0], [2.0]]), np.array([[1.0], [3.0], [5.0]])
    >>> problem = LstsqProblem(X, Y, None, X.mean(0), Y.mean(0))
    >>> objective, theta0 = regression_objective(
    ...     problem, SquaredError(), fit_intercept=True)
    >>> type(objective).__name__, objective.H, theta0
    ('QuadraticObjective', array([[0.66666667]]), array([[0.]]))
    """
    d, k = problem.shape[1], problem.n_targets
    total = problem.total_weight
    beta0 = np.zeros((d, k)) if coef is None else np.array(coef, dtype=np.float64)
    if _uses_gram(problem, loss):
        gram = problem.gram()
        c = sum_of_squares(problem.rhs()) / total
        H = gram.G / total
        constant = constant_columns(problem.X, problem.X_offset, np.diag(H))
        return QuadraticObjective(H, gram.AtB / total, c, constant), beta0
    weights = problem.sample_weight
    weights = np.full(problem.shape[0], 1.0) if weights is None else weights
    objective = LossObjective(
        problem.X,
        problem.Y.astype(np.float64, copy=False),
        weights / total,
        loss,
        problem.X_offset,
        fit_intercept,
        problem.column_sums_of_squares() / total,
    )
    if not fit_intercept:
        return objective, beta0
    c0 = np.zeros((1, k))
    if coef is not None:  # the intercept of centred data: b + μβ
        c0 = np.reshape(intercept, (1, k)) + problem.X_offset @ beta0
    return objective, np.vstack([beta0, c0])


def coefficients(theta, problem, objective):
    """``(coef, intercept)`` of the original problem from a solution θ.

    The intercept is None without centring (no intercept is fitted).
    """
    d = problem.shape[1]
    beta = theta[:d]
    if isinstance(objective, LossObjective) and objective.fit_intercept:
        # θ's last row is the offset of centred data: b = c - μβ.
        return beta, theta[d] - problem.X_offset @ beta
    if problem.X_offset is not None:
        return beta, problem.Y_offset - problem.X_offset @ beta
    return beta, None


class PosedObjective(NamedTuple):
    """An objective for the solver, where to start, and how to read
    ``(coef, intercept)`` off its solution θ (intercept None: not fitted).

    Every backend poses GDRegressor's problem as one of these, so the
    estimator runs one solver call whatever holds the rows.
    """

    objective: Any
    theta0: np.ndarray
    coefficients: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]


def posed_on_rows(problem, loss, *, fit_intercept, coef=None, intercept=None):
    """:func:`regression_objective` of in-memory rows, posed."""
    objective, theta0 = regression_objective(
        problem, loss, fit_intercept=fit_intercept, coef=coef, intercept=intercept
    )
    return PosedObjective(
        objective, theta0, lambda theta: coefficients(theta, problem, objective)
    )


def posed_on_statistics(statistics, dtype, coef=None):
    """The squared loss posed on row statistics (a stream, dask, a device):
    their :meth:`quadratic_objective
    <skla._algorithms.statistics.RowStatistics.quadratic_objective>`, from
    ``coef`` (zeros if None), the intercept ``ν - μᵀβ`` when centred."""
    d, k = statistics.n_features, statistics.n_targets
    theta0 = np.zeros((d, k)) if coef is None else np.array(coef, dtype=np.float64)

    def read(theta):
        if not statistics.centred:
            return theta, None
        return theta, statistics.mean[d:] - statistics.mean[:d] @ theta

    return PosedObjective(statistics.quadratic_objective(dtype), theta0, read)
