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

The smooth part is ``f(θ) = φ(Mθ)`` with ``M`` linear (see
:mod:`.objectives`).  The loop applies ``M`` once per trial point and
combines ``M z`` for the extrapolated point from earlier products (M is
linear), so an iteration costs one product with ``M`` and, for a
:class:`~.objectives.LossObjective`, one with ``Mᵀ``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..exceptions import DivergenceError
from ._linalg import has_exploded

__all__ = ["Result", "proximal_gradient"]

# At most this many halvings of the step in one iteration's line search.
_MAX_BACKTRACKS = 60
# Changes of the objective below this fraction of its size are rounding
# noise (the line search's tolerance too).
_NOISE = 1e-12


@dataclass
class Result:
    """What :func:`proximal_gradient` returns."""

    coef: np.ndarray
    n_iter: int
    loss_curve: list
    step: float


def _preconditioner(objective, precondition):
    """Per-coordinate steps: inverse curvatures, and 0 for constant columns.

    A constant column (after centring) carries no information, only
    rounding noise: its coordinate is frozen where it starts (0 for a cold
    fit, the minimum-norm choice) instead of fitting the noise.
    """
    curvature = objective.curvature()
    constant = np.zeros(len(curvature), dtype=bool)
    constant[: objective.n_penalized] = objective.constant_columns()
    if not precondition:
        return np.where(constant, 0.0, 1.0)
    # Every column on its own scale, however far apart (1e-8 next to 1e8); a
    # column of no curvature has no gradient, and any scale works for it.
    scale = np.ones_like(curvature)
    np.divide(1.0, curvature, out=scale, where=curvature > np.finfo(float).tiny)
    scale[constant] = 0.0
    return scale


class _ProximalMap:
    """The proximal step in the metric ``η D`` and what is measured with it."""

    def __init__(self, penalty, alpha, scale, n_penalized):
        self.penalty = penalty if penalty is not None and alpha > 0 else None
        self.alpha = alpha
        self.scale = scale[:, None]
        self.frozen = self.scale == 0
        self.d = n_penalized

    def total(self, theta, f):
        """``F = f + α R``."""
        if self.penalty is None:
            return f
        return f + self.alpha * self.penalty.value(theta[: self.d])

    def step(self, z, g, eta):
        """``prox_{ηDαR}(z - ηD g)``."""
        x = z - eta * self.scale * g
        if self.penalty is not None:
            d = self.d
            x[:d] = self.penalty.prox(x[:d], eta * self.alpha * self.scale[:d])
        return x

    def per_step(self, diff, eta):
        """``diff / (η D)``, 0 on frozen coordinates."""
        out = np.zeros_like(diff)
        return np.divide(diff, eta * self.scale, out=out, where=~self.frozen)

    def mapping_norm(self, z, x_new, eta):
        """The norm of the gradient mapping ``(z - x⁺) / (η D)``."""
        return float(np.linalg.norm(self.per_step(z - x_new, eta)))


def _start(objective, prox, theta0, eta):
    """θ0 in float64, its product with M and gradient, and the reference for
    tol: the gradient mapping at coef = 0, where a cold fit starts (a warm
    start near the optimum then stops at once)."""
    x = np.array(theta0, dtype=np.float64)
    zero = np.zeros_like(x)
    M_zero = objective.forward(zero)
    g_zero = objective.gradient(zero, M_zero)
    mapping0 = prox.mapping_norm(zero, prox.step(zero, g_zero, eta), eta)
    if not np.any(x):  # a cold start: θ0 = 0, already evaluated
        return x, M_zero, g_zero, mapping0
    M_x = objective.forward(x)
    return x, M_x, objective.gradient(x, M_x), mapping0


def _line_search(objective, prox, z, M_z, f_z, g_z, eta, backtrack):
    """The next iterate from z; with ``backtrack``, halve η until the
    sufficient-decrease (Armijo) condition holds."""
    for _ in range(_MAX_BACKTRACKS):
        x_new = prox.step(z, g_z, eta)
        M_new = objective.forward(x_new)
        f_new = objective.value(x_new, M_new)
        if not backtrack:
            break
        diff = x_new - z
        excess = objective.excess(diff, M_new - M_z, f_z, g_z, f_new)
        quadratic = 0.5 * np.sum(prox.per_step(diff, 1.0) * diff) / eta
        if excess <= quadratic + _NOISE * abs(f_z):
            break
        eta *= 0.5
    return x_new, M_new, f_new, eta


def _extrapolate(x, M_x, F_limit, x_new, M_new, F_new, z, t):
    """FISTA's next extrapolated point ``z`` (and ``Mz``) and momentum ``t``.

    The momentum restarts when it stops helping: the objective went up (above
    ``F_limit``, the last value plus its rounding noise), or the step points
    against the momentum (O'Donoghue & Candès, 2015).
    """
    if F_new > F_limit or np.sum((z - x_new) * (x_new - x)) > 0:
        return x_new.copy(), M_new.copy(), 1.0
    t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
    momentum = (t - 1.0) / t_new
    return x_new + momentum * (x_new - x), M_new + momentum * (M_new - M_x), t_new


def _diverged(k, F_start, F_new, eta, lipschitz, step_name):
    safe = f" (the safe step is about {1 / lipschitz:.3g})" if lipschitz else ""
    return DivergenceError(
        f"Gradient descent diverged at iteration {k}: the objective grew "
        f"from {F_start:.3g} to {F_new:.3g} with step size {eta:.3g} "
        f"(learning_rate={step_name!r}). Use learning_rate='auto', a smaller "
        f"eta0{safe}, or scale the features (e.g. with StandardScaler)."
    )


def _stopped_at_max_iter(curve, F_x, F_start, eta, max_iter, tol, step_name):
    """Raise if the run oscillated, else warn that it did not converge."""
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
        stacklevel=5,
    )


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
        The smooth part f (see :mod:`.objectives`).
    penalty : object or None
        Component with ``value`` and ``prox``, applied to the first
        ``objective.n_penalized`` rows of θ (never to the intercept row).
    alpha : float
        Penalty strength.
    step_rule : object
        Step-size component (``initial``, and the optional ``backtrack``,
        ``grow`` and ``precondition`` of
        :class:`~skla.components.step_sizes.StepSize`).
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

    Examples
    --------
    Least squares on a 2×2 Gram matrix, solved to ``tol``:

    >>> import numpy as np
    >>> from skla._algorithms.objectives import QuadraticObjective
    >>> from skla.components.step_sizes import AutoStep
    >>> H, h = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([[1.0], [2.0]])
    >>> result = proximal_gradient(QuadraticObjective(H, h, 0.0), None, 0.0,
    ...     AutoStep(), smoothness=1.0, eta0=0.1, theta0=np.zeros((2, 1)),
    ...     max_iter=500, tol=1e-12)
    >>> np.allclose(result.coef, np.linalg.solve(H, h))
    True
    """
    backtrack = bool(getattr(step_rule, "backtrack", False))
    grow = float(getattr(step_rule, "grow", 1.0))
    scale = _preconditioner(objective, getattr(step_rule, "precondition", False))
    lipschitz = None
    if smoothness is not None:
        lipschitz = smoothness * objective.lipschitz(scale)
    eta = float(step_rule.initial(lipschitz, eta0))
    prox = _ProximalMap(penalty, alpha, scale, objective.n_penalized)

    x, M_x, g_z, mapping0 = _start(objective, prox, theta0, eta)
    z, M_z, t = x.copy(), M_x.copy(), 1.0
    f_z = objective.value(z, M_z)
    F_x = F_start = prox.total(x, f_z)
    curve = []
    for k in range(1, max_iter + 1):
        x_new, M_new, f_new, eta = _line_search(
            objective, prox, z, M_z, f_z, g_z, eta * grow, backtrack
        )
        F_new = prox.total(x_new, f_new)
        # From an exact start (F = 0) rounding noise is no explosion.
        if has_exploded(F_new, max(F_start, _NOISE * objective.cancelled)):
            raise _diverged(k, F_start, F_new, eta, lipschitz, step_name)
        curve.append(F_new)
        mapping = prox.mapping_norm(z, x_new, eta)
        if verbose:
            print(
                f"iteration {k}: objective {F_new:.10g}, "
                f"gradient norm {mapping:.3g}, step {eta:.3g}"
            )
        if mapping <= tol * mapping0:
            x = x_new
            break
        # An increase within rounding noise is no reason to restart.
        noise = _NOISE * (abs(F_x) + objective.cancelled)
        z, M_z, t_new = _extrapolate(x, M_x, F_x + noise, x_new, M_new, F_new, z, t)
        x, M_x, F_x, t = x_new, M_new, F_new, t_new
        f_z = objective.value(z, M_z)
        g_z = objective.gradient(z, M_z)
    else:
        _stopped_at_max_iter(curve, F_x, F_start, eta, max_iter, tol, step_name)
    return Result(x, k, curve, eta)
