r"""Accelerated proximal gradient descent: the algorithm behind GDRegressor.

Minimises :math:`F(\theta) = f(\theta) + \alpha R(\theta)` with FISTA
(Beck & Teboulle, 2009) and adaptive restart (O'Donoghue & Candès, 2015):

.. math::

    x_{k+1} = \operatorname{prox}_{\eta D \alpha R}(z_k - \eta D \nabla f(z_k)),
    \qquad z_{k+1} = x_{k+1} + \tfrac{t_k - 1}{t_{k+1}} (x_{k+1} - x_k),

where ``D`` is a diagonal preconditioner (the inverse column curvatures, or
the identity) and ``η`` the step.  With ``R = 0`` and no momentum this is the
seed's ``var = var - lr * grad``.  The loop stops when the norm of the
gradient mapping :math:`(z_k - x_{k+1}) / (\eta D)` -- the gradient itself when
there is no penalty -- falls to ``tol`` times its value at ``θ = 0`` (where a
cold fit starts): the seed's ``while norm(grad) > eps``, made scale-free.

The smooth part is ``f(θ) = φ(Mθ)`` with ``M`` linear; an *objective* object
has ``forward(θ) = Mθ`` and ``value``/``gradient`` given θ and Mθ.  The loop
applies ``M`` once per trial point and combines ``M z`` for the extrapolated
point from earlier products (M is linear), so an iteration costs one product
with ``M`` and, for :class:`LossObjective`, one with ``Mᵀ``.
:class:`QuadraticObjective` works on the d×d Gram matrix (squared loss),
:class:`LossObjective` on X itself.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.extmath import safe_sparse_dot

from .._data import is_rounding_noise
from ..exceptions import DivergenceError

__all__ = ["LossObjective", "QuadraticObjective", "proximal_gradient"]

# At most this many halvings of the step in one iteration's line search.
_MAX_BACKTRACKS = 60


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
    n_penalized: int = field(init=False)

    def __post_init__(self):
        self.n_penalized = len(self.H)

    def forward(self, beta):
        """``Hβ``: the linear part, carried along by the solver."""
        return self.H @ beta

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
        """Largest eigenvalue of ``diag(√scale) H diag(√scale)``."""
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
        beta = theta[: self.n_penalized]
        P = np.asarray(
            safe_sparse_dot(self.X, beta, dense_output=True), dtype=np.float64
        )
        if self.X_offset is not None:
            P -= self.X_offset @ beta
        if self.fit_intercept:
            P += theta[self.n_penalized]
        return P

    def value(self, theta, P):
        return self.loss.value(self.Y, P, self.weights)

    def gradient(self, theta, P):
        G = np.asarray(self.loss.gradient(self.Y, P, self.weights), dtype=np.float64)
        total = G.sum(axis=0)
        grad_beta = np.asarray(safe_sparse_dot(self.X.T, G, dense_output=True))
        if self.X_offset is not None:
            grad_beta = grad_beta - np.outer(self.X_offset, total)
        if self.fit_intercept:
            return np.vstack([grad_beta, total])
        return grad_beta

    def excess(self, diff, P_diff, f_z, g_z, f_new):
        """``f(z + d) - f(z) - ∇f(z)ᵀd`` from the values."""
        return f_new - f_z - float(np.sum(g_z * diff))

    def curvature(self):
        c = self.curvatures
        return np.append(c, 1.0) if self.fit_intercept else c.copy()

    def constant_columns(self):
        """Columns whose centred spread is only rounding noise (see
        :func:`~skla._data.is_rounding_noise`): none without centring.
        """
        if self.X_offset is None:
            return self.curvatures == 0
        return is_rounding_noise(self.curvatures, self.X_offset, self.X.dtype)

    def lipschitz(self, scale, n_iter=20, random_state=0):
        """Power iteration for the largest eigenvalue of the scaled ``AᵀVA``."""
        d = self.n_penalized
        root = np.sqrt(scale[:d])
        u = np.random.default_rng(random_state).standard_normal(d)
        lam = 0.0
        for _ in range(n_iter):
            norm = np.linalg.norm(u)
            if not norm > 0:  # every column constant: no curvature at all
                lam = 0.0
                break
            u /= norm
            v = root * u
            Av = np.asarray(safe_sparse_dot(self.X, v)).ravel()
            if self.X_offset is not None:
                Av -= self.X_offset @ v
            Av *= self.weights
            w = np.asarray(safe_sparse_dot(self.X.T, Av)).ravel()
            if self.X_offset is not None:
                w -= self.X_offset * Av.sum()
            u = root * w
            lam = float(np.linalg.norm(u))
        # The intercept's block is 1 (times its scale) and decoupled.
        return max(lam, float(scale[d])) if self.fit_intercept else lam


@dataclass
class Result:
    coef: np.ndarray
    n_iter: int
    loss_curve: list
    converged: bool
    step: float
    lipschitz: float | None


def _preconditioner(objective, precondition):
    """Per-coordinate steps: inverse curvatures, and 0 for constant columns.

    A constant column (after centring) carries no information, only
    rounding noise: its coordinate is frozen where it starts (0 for a cold
    fit, the minimum-norm choice) instead of fitting the noise.
    """
    curvature = objective.curvature()
    constant = np.zeros(len(curvature), dtype=bool)
    if hasattr(objective, "constant_columns"):
        constant[: objective.n_penalized] = objective.constant_columns()
    if not precondition:
        return np.where(constant, 0.0, 1.0)
    # Every column on its own scale, however far apart (1e-8 next to 1e8); a
    # column of no curvature has no gradient, and any scale works for it.
    scale = np.ones_like(curvature)
    np.divide(1.0, curvature, out=scale, where=curvature > np.finfo(float).tiny)
    scale[constant] = 0.0
    return scale


def proximal_gradient(
    objective,
    penalty,
    alpha,
    step_rule,
    *,
    smoothness,
    eta0,
    theta0,
    max_iter,
    tol,
    verbose=0,
    step_name="",
):
    """FISTA with adaptive restart, a diagonal metric and optional backtracking.

    Parameters
    ----------
    objective : QuadraticObjective or LossObjective
        The smooth part f.
    penalty : object or None
        Component with ``value`` and ``prox``, applied to the first
        ``objective.n_penalized`` rows of θ (never to the intercept row).
    alpha : float
        Penalty strength.
    step_rule : object
        Step-size component (``initial``; ``backtrack``, ``grow``,
        ``precondition`` attributes).
    smoothness : float or None
        The loss's smoothness factor (None: not smooth).
    eta0 : float
        The user's step for rules that use it.
    theta0 : ndarray of shape (p, n_targets)
        Starting point.
    max_iter : int
    tol : float
        Relative tolerance on the norm of the gradient mapping.
    verbose : int, default=0
    step_name : str, default=""
        The ``learning_rate`` value, for messages.

    Returns
    -------
    result : Result
    """
    backtrack = bool(getattr(step_rule, "backtrack", False))
    grow = float(getattr(step_rule, "grow", 1.0))
    scale = _preconditioner(objective, getattr(step_rule, "precondition", False))
    lipschitz = None
    if smoothness is not None:
        lipschitz = smoothness * objective.lipschitz(scale)
    eta = float(step_rule.initial(lipschitz, eta0))
    d = objective.n_penalized
    scale = scale[:, None]

    def F(theta, f):
        if penalty is None or alpha == 0:
            return f
        return f + alpha * penalty.value(theta[:d])

    def step_from(z, g, eta):
        x = z - eta * scale * g
        if penalty is not None and alpha > 0:
            x[:d] = penalty.prox(x[:d], eta * alpha * scale[:d])
        return x

    frozen = scale == 0

    def per_step(diff, eta):  # (z - x) / (η D), 0 on frozen coordinates
        return np.divide(diff, eta * scale, out=np.zeros_like(diff), where=~frozen)

    def mapping_norm(z, g, eta):
        return float(np.linalg.norm(per_step(z - step_from(z, g, eta), eta)))

    # f(θ) = φ(Mθ) with M linear (H, or the centred X): M is applied once per
    # trial point, and M z for the extrapolated point is combined from M x.
    x = np.array(theta0, dtype=np.float64)
    zero = np.zeros_like(x)
    # The reference for tol: the gradient mapping at coef = 0, where a cold
    # fit starts; a warm start near the optimum then stops at once.
    M_zero = objective.forward(zero)
    g_zero = objective.gradient(zero, M_zero)
    mapping0 = mapping_norm(zero, g_zero, eta)
    if np.any(x):  # warm start: evaluate at θ0 too
        M_x = objective.forward(x)
        g_z = objective.gradient(x, M_x)
    else:  # cold start: θ0 = 0, already evaluated
        M_x, g_z = M_zero, g_zero
    z, M_z, t = x.copy(), M_x.copy(), 1.0
    f_z = objective.value(z, M_z)
    F_x = F_start = F(x, f_z)
    curve, converged = [], False
    for k in range(1, max_iter + 1):
        eta *= grow
        for _ in range(_MAX_BACKTRACKS):
            x_new = step_from(z, g_z, eta)
            M_new = objective.forward(x_new)
            f_new = objective.value(x_new, M_new)
            if not backtrack:
                break
            diff = x_new - z
            excess = objective.excess(diff, M_new - M_z, f_z, g_z, f_new)
            if excess <= 0.5 * np.sum(per_step(diff, 1.0) * diff) / eta + 1e-12 * abs(
                f_z
            ):
                break
            eta *= 0.5
        F_new = F(x_new, f_new)
        if not np.isfinite(F_new) or F_new > 1e8 * max(F_start, 1e-300) + 1e-300:
            raise DivergenceError(
                f"Gradient descent diverged at iteration {k}: the objective grew "
                f"from {F_start:.3g} to {F_new:.3g} with step size {eta:.3g} "
                f"(learning_rate={step_name!r}). Use learning_rate='auto', a "
                "smaller eta0"
                + (
                    f" (the safe step is about {1 / lipschitz:.3g})"
                    if lipschitz
                    else ""
                )
                + ", or scale the features (e.g. with StandardScaler)."
            )
        curve.append(F_new)
        mapping = float(np.linalg.norm(per_step(z - x_new, eta)))
        if verbose:
            print(
                f"iteration {k}: objective {F_new:.10g}, "
                f"gradient norm {mapping:.3g}, step {eta:.3g}"
            )
        if mapping <= tol * mapping0:
            x, converged = x_new, True
            break
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        # Restart the momentum when it stops helping (objective goes up, or
        # the step points against the momentum).
        if F_new > F_x or np.sum((z - x_new) * (x_new - x)) > 0:
            t_new, z, M_z = 1.0, x_new.copy(), M_new.copy()
        else:
            momentum = (t - 1.0) / t_new
            z = x_new + momentum * (x_new - x)
            M_z = M_new + momentum * (M_new - M_x)
        x, M_x, F_x, t = x_new, M_new, F_new, t_new
        f_z = objective.value(z, M_z)
        g_z = objective.gradient(z, M_z)
    else:
        best = min(curve)
        if F_x > F_start or (best > 0 and F_x > 2 * best):
            # Steps too large for a loss whose gradient is bounded (or has no
            # curvature bound) do not explode, they oscillate: after max_iter
            # the objective is above where it started, or far above the best
            # value it passed through.
            raise DivergenceError(
                f"Gradient descent did not converge: after max_iter={max_iter} "
                f"iterations the objective is {F_x:.3g}, against {F_start:.3g} "
                f"at the start and {best:.3g} at best; the step size {eta:.3g} "
                f"(learning_rate={step_name!r}) makes it oscillate. Use "
                "learning_rate='auto' or 'armijo', or a smaller eta0."
            )
        warnings.warn(
            f"Gradient descent stopped at max_iter={max_iter} before the gradient "
            f"norm fell to tol={tol} of its initial value; increase max_iter, "
            "loosen tol, or scale the features.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return Result(x, k, curve, converged, eta, lipschitz)
