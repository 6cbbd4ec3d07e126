r"""Losses: the data-fit term of the gradient-method regressors.

A loss sees the whole prediction matrix at once, so that non-separable losses
such as the seed's RMSE fit the same protocol as the per-sample ones:

.. math::

    L(P) = \sum_k \sum_i v_i\, \ell(y_{ik}, p_{ik}),
    \qquad v_i = w_i / \textstyle\sum_j w_j ,

for a separable loss (targets are summed; weights ``v`` are normalised to sum
to one, so ``L`` is a weighted mean).  :class:`Loss` lists the methods.  Scales
follow :class:`sklearn.linear_model.SGDRegressor`: ``squared_error`` is
``½ r²``, so that "mean loss + alpha · penalty" is Lasso's and ElasticNet's
objective.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..plugins import register
from ._base import Component

__all__ = [
    "RMSE",
    "EpsilonInsensitive",
    "Huber",
    "Loss",
    "SquaredEpsilonInsensitive",
    "SquaredError",
]


@runtime_checkable
class Loss(Protocol):
    """The protocol of a loss.

    ``y`` and ``y_pred`` have shape (n_samples, n_targets); ``sample_weight``
    has shape (n_samples,) and sums to one.

    Optional attributes a solver uses when present:

    - ``smoothness``: a bound on the second derivative of ``ℓ`` with respect
      to the prediction (the Lipschitz factor of the gradient), or None if
      the loss is not smooth.  Solvers multiply it by the largest eigenvalue
      of the weighted data to get a safe step.
    - ``quadratic``: True if ``ℓ = ½ (y - p)²``, which lets a solver work on
      the Gram matrix instead of X.
    - ``gradient_bound``: a bound on ``|∂ℓ/∂p|`` for losses that grow
      linearly (Huber's ``epsilon``), or None.  Mini-batch SGD's ``"auto"``
      step treats such a loss as one without a curvature bound when the
      bound is below the targets' spread: most residuals then sit where the
      loss is linear, and steps sized by the curvature would crawl.
    - ``separable``: True if the loss is a sum of one term per row, each
      with its own weight, so that its value and gradient over rows split
      into chunks are the chunks' values and gradients added up (each chunk
      passed its share of the weights).  A cluster fit (dask arrays) needs
      it, or the pair below; without either it refuses the loss rather
      than add up chunks of a loss that does not add up.
    - ``core`` and ``combine(c)``: a loss that is a function of the
      per-target totals ``c`` of a separable ``core`` loss (RMSE of the
      squared error; the core's value of one target's columns is that
      target's total): ``combine`` returns the loss's value and, per
      target, the factor that turns ``core``'s gradient into the loss's.

    Examples
    --------
    >>> import numpy as np
    >>> class AbsoluteError:
    ...     def value(self, y, y_pred, sample_weight):
    ...         return float(sample_weight @ np.abs(y - y_pred).sum(axis=1))
    ...     def gradient(self, y, y_pred, sample_weight):
    ...         return -sample_weight[:, None] * np.sign(y - y_pred)
    >>> isinstance(AbsoluteError(), Loss), isinstance(SquaredError(), Loss)
    (True, True)
    """

    def value(self, y, y_pred, sample_weight) -> float:
        """The weighted mean loss, summed over targets."""

    def gradient(self, y, y_pred, sample_weight) -> np.ndarray:
        """The gradient of :meth:`value` with respect to ``y_pred``."""


class _SeparableLoss(Component):
    """A loss ``Σ v_i ℓ(r_i)`` of the residual ``r = y - p``."""

    smoothness: float | None = None
    quadratic = False
    separable = True

    def value(self, y, y_pred, sample_weight):
        return float(sample_weight @ self._loss(y - y_pred).sum(axis=1))

    def gradient(self, y, y_pred, sample_weight):
        # d ℓ(y - p) / dp = -ℓ'(r)
        return -sample_weight[:, None] * self._derivative(y - y_pred)


@register("loss", "squared_error")
class SquaredError(_SeparableLoss):
    r"""Half the squared residual, :math:`\ell(r) = \tfrac12 r^2`.

    Its minimiser is least squares; with it, a gradient solver may work on the
    d×d Gram matrix instead of X.

    Examples
    --------
    >>> import numpy as np
    >>> y, p, w = np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]), np.full(2, 0.5)
    >>> SquaredError().value(y, p, w)
    1.25
    """

    smoothness = 1.0
    quadratic = True

    def _loss(self, r):
        return 0.5 * r**2

    def _derivative(self, r):
        return r


@register("loss", "huber")
class Huber(_SeparableLoss):
    r"""Huber's loss: quadratic for small residuals, linear beyond ``epsilon``.

    .. math::

        \ell(r) = \begin{cases} \tfrac12 r^2 & |r| \le \epsilon \\
        \epsilon |r| - \tfrac12 \epsilon^2 & \text{otherwise} \end{cases}

    as in :class:`sklearn.linear_model.SGDRegressor`.

    Parameters
    ----------
    epsilon : float, default=0.1
        Where the loss turns linear, > 0.

    Examples
    --------
    >>> import numpy as np
    >>> Huber(epsilon=1.0).value(np.array([[3.0]]), np.array([[0.0]]), np.ones(1))
    2.5
    """

    smoothness = 1.0

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    @property
    def gradient_bound(self):
        return float(self.epsilon)

    def _loss(self, r):
        a = np.abs(r)
        return np.where(
            a <= self.epsilon, 0.5 * r**2, self.epsilon * (a - 0.5 * self.epsilon)
        )

    def _derivative(self, r):
        return np.clip(r, -self.epsilon, self.epsilon)


@register("loss", "epsilon_insensitive")
class EpsilonInsensitive(_SeparableLoss):
    r"""Support-vector regression's loss, :math:`\max(0, |r| - \epsilon)`.

    Not smooth: gradient methods use its subgradient and converge slowly; it
    is meant for stochastic gradient descent.

    Parameters
    ----------
    epsilon : float, default=0.1
        Half-width of the insensitive tube, >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> EpsilonInsensitive(0.5).value(np.array([[2.0]]), np.array([[0.0]]), np.ones(1))
    1.5
    """

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def _loss(self, r):
        return np.maximum(np.abs(r) - self.epsilon, 0.0)

    def _derivative(self, r):
        return np.sign(r) * (np.abs(r) > self.epsilon)


@register("loss", "squared_epsilon_insensitive")
class SquaredEpsilonInsensitive(_SeparableLoss):
    r"""The squared tube loss, :math:`\max(0, |r| - \epsilon)^2`.

    Parameters
    ----------
    epsilon : float, default=0.1
        Half-width of the insensitive tube, >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> y, p = np.array([[2.0]]), np.array([[0.0]])
    >>> SquaredEpsilonInsensitive(0.5).value(y, p, np.ones(1))
    2.25
    """

    smoothness = 2.0

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def _loss(self, r):
        return np.maximum(np.abs(r) - self.epsilon, 0.0) ** 2

    def _derivative(self, r):
        return 2.0 * np.sign(r) * np.maximum(np.abs(r) - self.epsilon, 0.0)


@register("loss", "rmse")
class RMSE(Component):
    r"""The seed's root mean squared error, :math:`\sqrt{\sum_i v_i r_i^2}` per target.

    Not separable: its gradient with respect to the predictions is
    :math:`-v_i r_i / \mathrm{RMSE}`, so with respect to the coefficients it is
    :math:`-X^\top r / (n\,\mathrm{RMSE}) = -X^\top r / (\sqrt{n}\,\|r\|)`
    for equal weights.  (The seed writes :math:`-X^\top r/(n\|r\|)`: the same
    direction, a factor :math:`\sqrt n` shorter, which a step size absorbs.)
    Its minimiser is the least-squares one.  Not smooth where the residual
    vanishes, so solvers use a line search.

    Examples
    --------
    >>> import numpy as np
    >>> y, p = np.array([[3.0], [1.0]]), np.array([[0.0], [1.0]])
    >>> RMSE().value(y, p, np.full(2, 0.5))  # sqrt(0.5 * 9)
    2.1213203435596424
    """

    smoothness = None
    quadratic = False
    separable = False
    core = SquaredError()  # RMSE_t = sqrt(2 c_t), c_t the mean of ½ r² per target

    def value(self, y, y_pred, sample_weight):
        return float(np.sqrt(sample_weight @ (y - y_pred) ** 2).sum())

    def combine(self, c):
        """The RMSE and its gradient's factors from the per-target totals
        ``c`` of :attr:`core`: ``Σ √(2c)``, and ``1/√(2c)`` (0 at an exact
        fit, as :meth:`gradient`).

        Examples
        --------
        >>> import numpy as np
        >>> y, p = np.array([[3.0], [1.0]]), np.array([[0.0], [1.0]])
        >>> w, rmse = np.full(2, 0.5), RMSE()
        >>> value, factor = rmse.combine([rmse.core.value(y, p, w)])
        >>> bool(np.isclose(value, rmse.value(y, p, w)))
        True
        >>> g = factor * rmse.core.gradient(y, p, w)
        >>> bool(np.allclose(g, rmse.gradient(y, p, w)))
        True
        """
        rmse = np.sqrt(2.0 * np.asarray(c, dtype=np.float64))
        factor = np.divide(1.0, rmse, out=np.zeros_like(rmse), where=rmse > 0)
        return float(rmse.sum()), factor

    def gradient(self, y, y_pred, sample_weight):
        r = y - y_pred
        rmse = np.sqrt(sample_weight @ r**2)
        # At an exact fit the gradient of the norm is 0 (a subgradient).
        scale = np.divide(1.0, rmse, out=np.zeros_like(rmse), where=rmse > 0)
        return -sample_weight[:, None] * r * scale
