"""Is a mini-batch SGD fit near its optimum?  One pass over X says.

SGD's own stopping rule watches the epoch objective, which is noisy and
stops improving when the steps are too small to make progress as well as
when the fit has arrived.  :class:`OptimalityCheck` tells the two apart with
the full gradient: :class:`SGDMiniBatchRegressor` asks it before stopping
with ``learning_rate="auto"`` (and keeps going, with a smaller step, while
the fit is still far) and after fitting with any schedule (and warns).  The
warning's advice is read from what the steps did (:func:`step_diagnosis`):
steps that hit the cap or raised the objective were too large, and only
steps well under the cap that lowered it were too small.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.extmath import safe_sparse_dot

from .._data import unit_weights
from ..exceptions import DivergenceError
from .curvature import CURVATURE_ROWS, largest_curvature

__all__ = [
    "OptimalityCheck",
    "Rows",
    "far_from_optimum",
    "refuse_oscillation",
    "step_diagnosis",
]

# Far from the optimum: the objective can still surely lose more than this
# fraction of itself, or of what the model explains beyond a constant (a lower
# bound from the full gradient mapping).  The mapping relative to its value at
# the start is reported too, but does not decide: a start that is already
# nearly optimal (y unrelated to X) leaves SGD's noise as most of the gradient
# with nothing to gain, and large feature means without an intercept make the
# gradient small where the error is not.
WORTH_A_STEP = 0.01
# Steps under this fraction of the step cap leave room for larger ones.
ROOM = 0.25
CENTRE = (
    "the features' means are large next to their spread and fit_intercept="
    "False, so they cannot be centred away: centre the features or fit an "
    "intercept"
)


class Rows:
    """All the training rows in memory: the passes an :class:`OptimalityCheck`
    makes over them.

    Examples
    --------
    >>> import numpy as np
    >>> from skla.components.losses import SquaredError
    >>> X, Y = np.array([[1.0], [2.0]]), np.array([[1.0], [3.0]])
    >>> Rows(X, Y, None).loss(SquaredError(), np.ones((1, 1)), np.zeros(1))[0]
    0.25
    """

    def __init__(self, X, Y, sample_weight):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight

    def loss(self, loss, coef, intercept, *, gradient=True):
        """``Σ wᵢ ℓᵢ / n`` at ``X coef + intercept`` (``coef`` None: the
        intercept alone) -- SGDRegressor's objective, which the updates
        descend -- and, with ``gradient``, its gradients with respect to
        ``coef`` and ``intercept``: ``(value, grad, grad_b)``."""
        X, Y = self.X, self.Y
        P = np.zeros(Y.shape)
        if coef is not None:
            P = safe_sparse_dot(X, coef, dense_output=True)
        if intercept is not None:
            P = P + intercept
        n = max(X.shape[0], 1)
        w = self.sample_weight
        v = np.full(X.shape[0], 1.0 / n) if w is None else w.astype(np.float64) / n
        value = float(loss.value(Y, P, v))
        if not gradient:
            return value, None, None
        G = np.asarray(loss.gradient(Y, P, v), dtype=np.float64)
        grad = np.asarray(safe_sparse_dot(X.T, G, dense_output=True))
        return value, grad, G.sum(axis=0)

    def mean_y(self):
        """The weighted mean of Y (the best constant prediction)."""
        return unit_weights(self.sample_weight, self.X.shape[0]) @ self.Y

    def head(self, n_rows):
        """The first rows of X (up to ``n_rows``) and their weights."""
        w = self.sample_weight
        return self.X[:n_rows], None if w is None else w[:n_rows]


class OptimalityCheck:
    """How far a fit is from its optimum, judged over all the rows.

    Parameters
    ----------
    engine : MiniBatchSGD
        The run (its loss, penalty, metric and step cap).
    rows : Rows
        All the training rows: :class:`Rows` in memory, or any object with
        its three methods (``skla._backends.dask.loss.ChunkedRows`` on a cluster).
    start : tuple of ndarray
        The starting ``(coef, intercept)``, shapes (n_features, n_targets)
        and (n_targets,).

    Examples
    --------
    >>> import numpy as np
    >>> from skla._algorithms.minibatch import MiniBatchSGD
    >>> from skla.components.losses import SquaredError
    >>> from skla.components.schedules import Constant
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 3))
    >>> Y = X @ np.ones((3, 1)) + 0.1 * rng.standard_normal((500, 1))
    >>> start = (np.zeros((3, 1)), np.zeros(1))
    >>> engine = MiniBatchSGD(*[a.copy() for a in start], loss=SquaredError(),
    ...     penalty=None, schedule=Constant(0.1), alpha=0.0,
    ...     fit_intercept=True, batch_size=10)
    >>> check = OptimalityCheck(engine, Rows(X, Y, None), start)
    >>> _ = engine.epoch(X, Y, None)
    >>> check.problem(engine.coef, engine.intercept) is None  # near the optimum
    True
    >>> check.problem(*start)  # where it started
    'the objective can still drop by at least 98.6% (the full gradient is 1 ...'
    """

    def __init__(self, engine, rows, start):
        self.engine = engine
        self.rows = rows
        self.start = start
        self._initial = None

    def problem(self, coef, intercept):
        """None near the optimum, else what is wrong, in words.

        Raises
        ------
        DivergenceError
            For a loss without a curvature bound whose last steps were still
            capped: such steps oscillate and never converge.
        """
        engine = self.engine
        if getattr(engine.loss, "smoothness", None):
            if self._initial is None:
                self._initial = self.mapping(*self.start)[0]
            final, objective, gain = self.mapping(coef, intercept)
            ratio = final / self._initial if self._initial > 0 else 0.0
            # Relative to the objective, or to what the model explains beyond
            # the best constant if that is more (a near-perfect fit has
            # almost no objective left, and no reason to chase its rounding).
            scale = max(objective, self._trivial() - objective)
            gain = gain / scale if scale > 0 else 0.0
            if gain > WORTH_A_STEP:
                return (
                    f"the objective can still drop by at least {gain:.1%} (the "
                    f"full gradient is {ratio:.2g} times its value at the start)"
                )
            return None
        refuse_oscillation(engine)
        trivial = self._trivial()
        fitted = self.objective(coef, intercept)
        if fitted > trivial:
            return (
                f"its objective {fitted:.3g} is worse than predicting the mean "
                f"of y ({trivial:.3g})"
            )
        return None

    def _trivial(self):
        """The objective of the best constant: the mean of y (0 without intercept)."""
        engine = self.engine
        constant = self.rows.mean_y() * engine.fit_intercept
        return self.rows.loss(engine.loss, None, constant, gradient=False)[0]

    def objective(self, coef, intercept):
        """Mean loss + alpha · penalty over all rows."""
        return self._pass(coef, intercept, gradient=False)[0]

    def rise(self, coef, intercept):
        """The objective at the start and at ``(coef, intercept)``: two passes."""
        return self.objective(*self.start), self.objective(coef, intercept)

    def _pass(self, coef, intercept, *, gradient):
        """Objective, and the loss's gradients, over all rows."""
        engine = self.engine
        intercept = intercept if engine.fit_intercept else None
        value, grad, grad_b = self.rows.loss(
            engine.loss, coef, intercept, gradient=gradient
        )
        if engine.penalty is not None:
            value += engine.alpha * float(engine.penalty.value(coef))
        return value, grad, grad_b

    def mapping(self, coef, intercept):
        r"""The full gradient mapping's norm, the objective and a sure gain.

        The gradient mapping at ``(coef, intercept)`` is
        :math:`G = (\theta - \operatorname{prox}_{\eta \alpha R}(\theta -
        \eta \nabla F(\theta))) / \eta` over all rows, with
        :math:`\eta = 1 / \lambda_{\max}` of the full-batch loss, in
        standardised coordinates (the run's ``metric``: each feature centred
        and scaled), so that no feature's scale dominates it.  It is zero
        exactly at the optimum of a smooth loss.  The gain is a lower bound
        on what the objective can still lose: :math:`\eta \lVert G \rVert^2
        / 2`, one proximal gradient step.  Without an intercept the features'
        means are not centred away, and the Hessian in these coordinates is
        about :math:`C + m m^\top` (:math:`m` the means over the scales, the
        curvature :math:`C` below :math:`\lambda I`); the gain is then
        :math:`\tfrac12 G^\top (\lambda I + m m^\top)^{-1} G`, by Sherman and
        Morrison, which sees the slow directions that large means leave.
        One pass over X; ``coef`` has shape (n_features, n_targets).

        Returns
        -------
        norm : float
            The norm of the mapping (of the gradient, without an intercept).
        objective : float
        gain : float
            The lower bound on the decrease still possible.
        """
        engine = self.engine
        objective, grad, grad_b = self._pass(coef, intercept, gradient=True)
        if not engine.fit_intercept:
            grad_b = np.zeros(grad.shape[1])
        metric = engine.metric
        if engine.fit_intercept:
            grad = metric.gradient(grad, grad_b)
        else:
            grad = grad / metric.scale[:, None]
        gamma = coef * metric.scale[:, None]
        curvature = self._curvature()
        if engine.fit_intercept:
            norm, gain = self._prox_gain(gamma, grad, 1.0 / curvature, grad_b)
        else:
            norm, gain = self._gain_without_intercept(gamma, grad, curvature)
        return norm, objective, gain

    def _prox_gain(self, gamma, grad, eta, grad_b):
        """‖G‖ and η‖G‖²/2 of the proximal gradient step of size ``eta``."""
        engine = self.engine
        moved = gamma - eta * grad
        if engine.penalty is not None:
            moved = engine.metric.prox(engine.penalty, moved, eta * engine.alpha)
        mapping = np.concatenate([((gamma - moved) / eta).ravel(), grad_b])
        return float(np.linalg.norm(mapping)), 0.5 * eta * float(mapping @ mapping)

    def _gain_without_intercept(self, gamma, grad, curvature):
        """The gain when the features' means are not centred away.

        The Hessian of the smooth part is then ``C + m mᵀ`` in these
        coordinates (``m`` the means over the scales, ``C ⪯ λ I``), so
        ``½ ∇ᵀ (λ I + m mᵀ)⁻¹ ∇`` (Sherman-Morrison) is a lower bound on what
        the objective can lose, one that sees the slow directions large means
        leave.  A ridge penalty joins the smooth part (its diagonal curvature
        joins λ I); another penalty gets the plain proximal step of size
        ``1 / (λ + ‖m‖²)``, whose gain is a weaker bound.
        """
        engine = self.engine
        metric = engine.metric
        m = metric.offset
        penalty = engine.penalty
        if penalty is not None and not hasattr(penalty, "shrink"):
            eta = 1.0 / (curvature + m @ m)
            return self._prox_gain(gamma, grad, eta, np.zeros(grad.shape[1]))
        diagonal = np.full((len(m), 1), curvature)
        if penalty is not None:  # ridge: α ½‖γ / scale‖², smooth
            ridge = engine.alpha / metric.scale[:, None] ** 2
            grad = grad + ridge * gamma
            diagonal = diagonal + ridge
        # ½ ∇ᵀ(D + m mᵀ)⁻¹∇ by Sherman-Morrison, D diagonal.
        scaled = grad / diagonal
        along = m @ scaled  # per target
        spread = float(m @ (m / diagonal[:, 0]))
        newton = float(np.sum(grad * scaled) - along @ along / (1.0 + spread))
        return float(np.linalg.norm(grad)), 0.5 * newton

    def _curvature(self):
        """λmax of the full-batch loss in the metric's coordinates."""
        engine = self.engine
        smoothness = getattr(engine.loss, "smoothness", None) or 1.0
        if engine.standard is engine.metric and engine.curvature:
            return smoothness * engine.curvature  # measured in these coordinates
        Z, weights = self.rows.head(CURVATURE_ROWS)
        Z = Z.toarray() if sp.issparse(Z) else np.asarray(Z, dtype=np.float64)
        Z = (Z - engine.metric.shift) / engine.metric.scale
        curvature = largest_curvature(
            Z, unit_weights(weights, len(Z)), engine.fit_intercept
        )
        return smoothness * curvature if curvature > 0 else 1.0


def refuse_oscillation(engine):
    """Raise if a loss without a curvature bound took steps above its cap:
    they oscillate and never converge.  ``fit`` asks at its end (through
    :meth:`OptimalityCheck.problem`), ``partial_fit`` after every pass."""
    if getattr(engine.loss, "smoothness", None) or not engine.capped:
        return
    raise DivergenceError(
        f"Mini-batch SGD did not converge: the loss {engine.loss!r}, which has "
        f"no curvature bound, still took steps above {engine.max_eta:.3g}, the "
        "largest that does not move the predictions by more than the targets' "
        f"spread (the schedule asked for {_asked(engine):.3g}); they "
        f"oscillate. {engine.advice()}"
    )


def far_from_optimum(engine, check, n_iter):
    """Warn (ConvergenceWarning) if the run stopped far from the optimum,
    saying what the steps did (:func:`step_diagnosis` for an explicit
    schedule) and what to change."""
    problem = check.problem(*engine.result())
    if problem is None:
        return
    step = float(np.minimum(_asked(engine), engine.max_eta))
    if engine.precondition:
        advice = CENTRE if _means_in_the_way(engine) else "raise max_iter or lower tol"
        diagnosis = (
            f"The steps were too small for these data (the last was {step:.3g}); "
            f"{advice}"
        )
    else:
        diagnosis = step_diagnosis(engine, check, step)
    warnings.warn(
        f"SGDMiniBatchRegressor stopped after {n_iter} epochs far from the "
        f"optimum: {problem}. {diagnosis}.",
        ConvergenceWarning,
        stacklevel=5,
    )


def step_diagnosis(engine, check, step):
    """What an explicit schedule's steps did, far from the optimum, in words.

    Read from what happened: a schedule that asked for more than the step
    cap ``max_eta``, or an objective that ended above its start, means steps
    too large.  Steps under ``ROOM · max_eta`` that lowered the objective
    were too small: they barely move the iterates between two gradients, so
    the loss falls steadily but slowly, and a larger ``eta0`` fits.  Closer
    to the cap, the steps were as large as the data allow: a larger ``eta0``
    would be cut back to the cap.
    """
    start, final = check.rise(*engine.result())
    cap = engine.max_eta
    if engine.capped or final > start:
        what = (
            f"the schedule asked for {_asked(engine):.3g}, above the step cap "
            f"max_eta_={cap:.3g} (the largest step that does not overshoot a "
            "mini-batch's minimum), and at the cap the fit stalls"
            if engine.capped
            else f"the objective rose from {start:.3g} at the start to "
            f"{final:.3g} (the last step was {step:.3g}, max_eta_={cap:.3g})"
        )
        return (
            f"The steps were too large for these data: {what}. Use a smaller "
            "eta0 (at most max_eta_) on scaled features (e.g. with "
            "StandardScaler), or learning_rate='auto' (the default), which "
            "measures its step from the data"
        )
    if _means_in_the_way(engine):
        return f"The steps (the last was {step:.3g}) made slow progress: {CENTRE}"
    if step < ROOM * cap:
        return (
            f"The steps were too small for these data (the last was {step:.3g}, "
            f"under a quarter of the step cap max_eta_={cap:.3g}); use "
            "learning_rate='auto' (the default), which measures its step from "
            "the data, or a larger eta0"
        )
    return (
        f"The steps were about as large as these data allow (the last was "
        f"{step:.3g}, the step cap max_eta_ is {cap:.3g}), so raising "
        "eta0 gains little: no one step size suits every direction of these "
        "data. Scale the features (e.g. with StandardScaler) or use "
        "learning_rate='auto' (the default), which centres and scales them"
    )


def _asked(engine):  # the schedule's next step, before the cap
    return float(engine.schedule.rates(engine.t, 1)[0])


def _means_in_the_way(engine):
    """Without an intercept, feature means large next to their spread cannot
    be centred away: the problem is ill-conditioned in any diagonal scaling."""
    return not engine.fit_intercept and np.max(np.abs(engine.metric.offset)) > 1
