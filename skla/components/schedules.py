r"""Learning-rate schedules for stochastic (mini-batch) gradient descent.

A schedule gives the step :math:`\eta_t` of update number ``t`` (counted from
1 and carried across ``partial_fit`` calls in the estimator's ``t_``).  It
returns the rates of many consecutive updates at once, so that the training
loop reads them from a list instead of calling back into the schedule for
every mini-batch.  The names and formulas are those of
:class:`sklearn.linear_model.SGDRegressor`, with ``t`` counting mini-batch
updates instead of samples (so that for ``batch_size=1`` they coincide):

=============  =======================================================
``constant``   :math:`\eta_t = \eta_0`
``invscaling`` :math:`\eta_t = \eta_0 / t^{p}` (``p = power_t``)
``optimal``    :math:`\eta_t = 1 / (\alpha (t_0 + t - 1))`, Bottou's heuristic
``adaptive``   :math:`\eta_0`, divided by 5 at each plateau
``auto``       a step measured from the data (skla's default, see below)
=============  =======================================================

``auto`` is not one of scikit-learn's: it asks the training loop to centre
and scale the features (a diagonal preconditioner measured on the first
window of rows) and to tell it the largest stable step of the batch size in
use, and it then takes that step, constant for smooth losses and decaying as
:math:`1/\sqrt{\text{epoch}}` for losses without a curvature bound.  It
needs no ``eta0`` and no feature scaling.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..plugins import register
from ._base import Component

__all__ = ["Adaptive", "Auto", "Constant", "InvScaling", "Optimal", "Schedule"]


@runtime_checkable
class Schedule(Protocol):
    """The protocol of a learning-rate schedule.

    Optional members a training loop uses when present:

    - ``plateau() -> bool``: called when the stopping rule fires (the loss
      stopped improving for ``n_iter_no_change`` epochs); return True to keep
      training, e.g. after lowering the rate.  Without it, training stops.
    - ``preconditioned: bool``: True asks the loop to work in centred,
      scaled coordinates (each feature minus its mean, divided by its
      standard deviation, both measured on the first window of rows) and to
      call ``calibrate``.  The fitted coefficients are mapped back; the
      objective is unchanged.
    - ``calibrate(step, *, period, smooth)``: called once, before the first
      update, with the largest stable step ``step`` of the batch size in use
      (``1 / L``, L the expected curvature of a mini-batch's loss in those
      coordinates), the number of updates per epoch ``period``, and whether
      the loss has a curvature bound (``smooth``).

    Examples
    --------
    >>> import numpy as np
    >>> class Cosine:
    ...     def rates(self, t, n_steps):
    ...         steps = np.arange(t, t + n_steps)
    ...         return 0.05 * (1 + np.cos(np.pi * np.minimum(steps, 1000) / 1000)) / 2
    >>> isinstance(Cosine(), Schedule), Cosine().rates(1000, 1)
    (True, array([0.]))
    """

    def rates(self, t: int, n_steps: int) -> np.ndarray:
        """The step sizes of updates ``t, t + 1, ..., t + n_steps - 1``."""


def _steps(t, n_steps):
    return np.arange(t, t + n_steps, dtype=np.float64)


@register("schedule", "constant")
class Constant(Component):
    """A fixed step, :math:`\\eta_t = \\eta_0`.

    Parameters
    ----------
    eta0 : float, default=0.01
        The step size, > 0.

    Examples
    --------
    >>> Constant(eta0=0.1).rates(1, 3)
    array([0.1, 0.1, 0.1])
    """

    def __init__(self, eta0=0.01):
        self.eta0 = eta0

    def rates(self, t, n_steps):
        return np.full(n_steps, float(self.eta0))


@register("schedule", "invscaling")
class InvScaling(Component):
    r"""Inverse scaling, :math:`\eta_t = \eta_0 / t^{p}`.

    Parameters
    ----------
    eta0 : float, default=0.01
        The first step, > 0.
    power_t : float, default=0.25
        The exponent :math:`p`.

    Examples
    --------
    >>> InvScaling(eta0=1.0, power_t=0.5).rates(1, 4)
    array([1.        , 0.70710678, 0.57735027, 0.5       ])
    """

    def __init__(self, eta0=0.01, power_t=0.25):
        self.eta0 = eta0
        self.power_t = power_t

    def rates(self, t, n_steps):
        return self.eta0 / _steps(t, n_steps) ** self.power_t


@register("schedule", "optimal")
class Optimal(Component):
    r"""Bottou's schedule for strongly convex problems, :math:`1/(\alpha(t_0+t-1))`.

    :math:`t_0` is chosen, as in scikit-learn, so that the first step is
    :math:`\alpha^{-1/4}`, the step that suits a weight vector of the typical
    size :math:`\alpha^{-1/2}` (``initial_eta0 = typw / max(1, dloss(-typw, 1))``
    with the squared loss's ``dloss``).

    Parameters
    ----------
    alpha : float, default=0.0001
        The estimator's penalty strength, > 0.

    Examples
    --------
    >>> Optimal(alpha=1.0).rates(1, 2)  # t0 = 1: 1/1, 1/2
    array([1. , 0.5])
    """

    def __init__(self, alpha=0.0001):
        self.alpha = alpha

    def rates(self, t, n_steps):
        if not self.alpha > 0:
            raise ValueError(
                "learning_rate='optimal' needs alpha > 0: its step is "
                f"1 / (alpha * (t0 + t - 1)); got alpha={self.alpha!r}."
            )
        typical_w = np.sqrt(1.0 / np.sqrt(self.alpha))
        t0 = 1.0 / (typical_w * self.alpha)
        # scikit-learn's 1 / (alpha (t0 + t - 1)): update 1 takes typw.
        return 1.0 / (self.alpha * (_steps(t, n_steps) - 1.0 + t0))


@register("schedule", "adaptive")
class Adaptive(Component):
    """A constant step, divided by 5 each time the loss stops improving.

    Training stops at a plateau once the step is at or below ``min_eta``
    (scikit-learn's rule).

    Parameters
    ----------
    eta0 : float, default=0.01
        The first step, > 0.
    min_eta : float, default=1e-6
        The smallest step that is still divided; at or below it, training
        stops.

    Attributes
    ----------
    eta_ : float
        The current step (set by the first call to :meth:`rates`).

    Examples
    --------
    >>> schedule = Adaptive(eta0=1.0)
    >>> schedule.rates(1, 2)
    array([1., 1.])
    >>> schedule.plateau(), schedule.rates(3, 1)
    (True, array([0.2]))
    """

    def __init__(self, eta0=0.01, min_eta=1e-6):
        self.eta0 = eta0
        self.min_eta = min_eta

    def rates(self, t, n_steps):
        if not hasattr(self, "eta_"):
            self.eta_ = float(self.eta0)
        return np.full(n_steps, self.eta_)

    def plateau(self):
        eta = getattr(self, "eta_", float(self.eta0))
        if eta <= self.min_eta:
            return False
        self.eta_ = eta / 5.0
        return True


@register("schedule", "auto")
class Auto(Component):
    r"""A step measured from the data: no ``eta0`` and no scaling needed.

    The training loop centres and scales the features (so that no feature,
    and not the intercept, is starved by another's scale) and measures, on
    the first window of rows, the expected curvature of a mini-batch's loss,

    .. math::

        L_B = \frac{n (B - 1)}{B (n - 1)} \lambda_{\max}(H)
              + \frac{n - B}{B (n - 1)} \max_i \lVert \tilde x_i \rVert^2,

    for batches of B of n rows (Gower et al., 2019): the full-batch curvature
    for B = n, a single sample's for B = 1.  The step is ``factor / L_B``,
    so it grows with the batch size.  It is constant for smooth losses --
    with the tail averaging the estimator applies, constant-step SGD on a
    least-squares objective converges to the optimum (Bach & Moulines,
    2013) -- and, for losses without a curvature bound, it is scaled by the
    targets' spread and decays as :math:`1/\sqrt{\text{epoch}}`, as
    subgradient steps must.

    Parameters
    ----------
    factor : float, default=1.0
        The step as a fraction of ``1 / L_B``, > 0.

    When the objective stops improving while the fit is still far from the
    optimum (the estimator checks the full gradient), :meth:`plateau` halves
    the step of stochastic updates.

    Attributes
    ----------
    eta_ : float
        The current step, set by :meth:`calibrate` and halved by
        :meth:`plateau`.

    Examples
    --------
    >>> schedule = Auto()
    >>> schedule.calibrate(0.5, period=10, smooth=True)
    >>> schedule.rates(1, 2)
    array([0.5, 0.5])
    >>> schedule.calibrate(0.5, period=10, smooth=False)
    >>> schedule.rates(31, 1)  # the fourth epoch: 0.5 / sqrt(4)
    array([0.25])
    """

    preconditioned = True

    def __init__(self, factor=1.0):
        self.factor = factor

    def calibrate(self, step, *, period, smooth):
        self.eta_ = float(self.factor) * float(step)
        self.period_ = max(1, int(period))
        self.smooth_ = bool(smooth)
        self.plateaus_ = 0

    def plateau(self):
        """Halve the step of stochastic updates; give up after 10 plateaus.

        With a constant step, SGD settles in a noise ball around the optimum
        whose size is proportional to the step; halving it halves the ball.
        Full-batch updates (one per epoch) have no noise: their step stays.
        """
        self.plateaus_ = getattr(self, "plateaus_", 0) + 1
        if self.plateaus_ > 10:
            return False
        if getattr(self, "period_", 1) > 1:
            self.eta_ = self.eta_ / 2.0
        return True

    def rates(self, t, n_steps):
        if not hasattr(self, "eta_"):
            raise RuntimeError(
                "learning_rate='auto' is calibrated by the training loop; "
                "call calibrate(step, period=..., smooth=...) first."
            )
        if self.smooth_:
            return np.full(n_steps, self.eta_)
        epochs = (_steps(t, n_steps) - 1) // self.period_ + 1
        return self.eta_ / np.sqrt(epochs)
