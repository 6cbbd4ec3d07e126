"""Is a mini-batch SGD fit near its optimum?  One pass over X says.

SGD's own stopping rule watches the epoch objective, which is noisy and
stops improving when the steps are too small to make progress as well as
when the fit has arrived.  :class:`OptimalityCheck` tells the two apart with
the full gradient: :class:`SGDMiniBatchRegressor` asks it before stopping
with ``learning_rate="auto"`` (and keeps going, with a smaller step, while
the fit is still far) and after fitting with any schedule (and warns).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from ..exceptions import DivergenceError
from ._minibatch import _CURVATURE_ROWS, _largest_curvature
from ._standardise import unit_weights

__all__ = ["OptimalityCheck"]

# Far from the optimum: the full gradient mapping is still above this fraction
# of its value at the start, and one full gradient step would still lower the
# objective by more than this fraction of it.  (Both: a start that is already
# nearly optimal, e.g. y unrelated to X, leaves SGD's noise as most of the
# gradient, with nothing to gain.)
FAR_FROM_OPTIMUM = 0.05
WORTH_A_STEP = 0.01


class OptimalityCheck:
    """How far a fit is from its optimum, judged over all the rows.

    Parameters
    ----------
    engine : MiniBatchSGD
        The run (its loss, penalty, metric and step cap).
    X, Y, sample_weight
        All the training rows.
    start : tuple of ndarray
        The starting ``(coef, intercept)``, shapes (n_features, n_targets)
        and (n_targets,).

    Examples
    --------
    >>> import numpy as np
    >>> from skla.linear_model._minibatch import MiniBatchSGD
    >>> from skla.components.losses import SquaredError
    >>> from skla.components.schedules import Constant
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 3))
    >>> Y = X @ np.ones((3, 1)) + 0.1 * rng.standard_normal((500, 1))
    >>> start = (np.zeros((3, 1)), np.zeros(1))
    >>> engine = MiniBatchSGD(*[a.copy() for a in start], loss=SquaredError(),
    ...     penalty=None, schedule=Constant(0.1), alpha=0.0,
    ...     fit_intercept=True, batch_size=10)
    >>> check = OptimalityCheck(engine, X, Y, None, start)
    >>> _ = engine.epoch(X, Y, None)
    >>> check.problem(engine.coef, engine.intercept) is None  # near the optimum
    True
    >>> check.problem(*start)  # where it started
    'the full gradient is still 1 times its value at the start, ...'
    """

    def __init__(self, engine, X, Y, sample_weight, start):
        self.engine = engine
        self.data = (X, Y, sample_weight)
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
        X, Y, sample_weight = self.data
        if getattr(engine.loss, "smoothness", None):
            if self._initial is None:
                self._initial = self.mapping(*self.start)[0]
            final, objective, eta = self.mapping(coef, intercept)
            ratio = final / self._initial if self._initial > 0 else 0.0
            gain = 0.5 * eta * final**2 / objective if objective > 0 else 0.0
            if ratio > FAR_FROM_OPTIMUM and gain > WORTH_A_STEP:
                return (
                    f"the full gradient is still {ratio:.2g} times its value at "
                    "the start, and one more full gradient step would lower the "
                    f"objective by {gain:.1%}"
                )
            return None
        if engine.capped:
            raise DivergenceError(
                f"Mini-batch SGD did not converge: the loss {engine.loss!r}, "
                "which has no curvature bound, still took steps above "
                f"{engine.max_eta:.3g}, the largest that does not move the "
                "predictions by more than the targets' spread (the schedule "
                f"asked for {float(engine.schedule.rates(engine.t, 1)[0]):.3g}); "
                f"they oscillate. {engine.advice()}"
            )
        mean = unit_weights(sample_weight, X.shape[0]) @ Y
        trivial = self.objective(np.zeros_like(coef), mean * engine.fit_intercept)[0]
        fitted = self.objective(coef, intercept)[0]
        if fitted > trivial:
            return (
                f"its objective {fitted:.3g} is worse than predicting the mean "
                f"of y ({trivial:.3g})"
            )
        return None

    def objective(self, coef, intercept):
        """Mean loss + alpha · penalty over all rows, and the predictions."""
        engine = self.engine
        X, Y, sample_weight = self.data
        P = safe_sparse_dot(X, coef, dense_output=True)
        if engine.fit_intercept:
            P = P + intercept
        v = unit_weights(sample_weight, X.shape[0])
        value = float(engine.loss.value(Y, P, v))
        if engine.penalty is not None:
            value += engine.alpha * float(engine.penalty.value(coef))
        return value, P

    def mapping(self, coef, intercept):
        r"""The full gradient mapping's norm, the objective and the step used.

        The gradient mapping at ``(coef, intercept)`` is
        :math:`\lVert \theta - \operatorname{prox}_{\eta \alpha R}(\theta -
        \eta \nabla F(\theta)) \rVert / \eta` over all rows, with
        :math:`\eta = 1 / \lambda_{\max}` of the full-batch loss, in
        standardised coordinates (the run's ``metric``), so that no feature's
        scale dominates it.  It is zero exactly at the optimum of a smooth
        loss, and a proximal gradient step of size :math:`\eta` would lower
        the objective by at least :math:`\eta \lVert G \rVert^2 / 2`.  One
        pass over X; ``coef`` has shape (n_features, n_targets).
        """
        engine = self.engine
        X, Y, sample_weight = self.data
        objective, P = self.objective(coef, intercept)
        v = unit_weights(sample_weight, X.shape[0])
        G = np.asarray(engine.loss.gradient(Y, P, v), dtype=np.float64)
        grad = np.asarray(safe_sparse_dot(X.T, G, dense_output=True))
        grad_b = G.sum(axis=0) if engine.fit_intercept else np.zeros(G.shape[1])
        metric = engine.metric
        grad = metric.gradient(grad, grad_b)
        gamma = coef * metric.scale[:, None]
        eta = 1.0 / self._curvature()
        moved = gamma - eta * grad
        if engine.penalty is not None:
            moved = metric.prox(engine.penalty, moved, eta * engine.alpha)
        mapping = np.concatenate([(gamma - moved).ravel(), eta * grad_b]) / eta
        return float(np.linalg.norm(mapping)), objective, eta

    def _curvature(self):
        """λmax of the full-batch loss in the metric's coordinates."""
        engine = self.engine
        smoothness = getattr(engine.loss, "smoothness", None) or 1.0
        if engine.standard is not None and engine.curvature:
            return smoothness * engine.curvature  # measured in these coordinates
        X, _, sample_weight = self.data
        rows = min(X.shape[0], _CURVATURE_ROWS)
        Z = X[:rows]
        Z = Z.toarray() if sp.issparse(Z) else np.asarray(Z, dtype=np.float64)
        Z = (Z - engine.metric.shift) / engine.metric.scale
        weights = None if sample_weight is None else sample_weight[:rows]
        curvature = _largest_curvature(
            Z, unit_weights(weights, rows), engine.fit_intercept
        )
        return smoothness * curvature if curvature > 0 else 1.0
