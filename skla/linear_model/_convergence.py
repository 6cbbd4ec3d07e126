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

from ..exceptions import DivergenceError
from ._minibatch import _unit_weights

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
                self._initial = engine.optimality(X, Y, sample_weight, *self.start)[0]
            final, objective, eta = engine.optimality(
                X, Y, sample_weight, coef, intercept
            )
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
        mean = _unit_weights(sample_weight, X.shape[0]) @ Y
        trivial = engine.objective(
            X, Y, sample_weight, np.zeros_like(coef), mean * engine.fit_intercept
        )
        fitted = engine.objective(X, Y, sample_weight, coef, intercept)
        if fitted > trivial:
            return (
                f"its objective {fitted:.3g} is worse than predicting the mean "
                f"of y ({trivial:.3g})"
            )
        return None
