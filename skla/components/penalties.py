r"""Penalties: the regulariser :math:`R` in "mean loss + alpha · R(coef)".

Scaled as in :class:`sklearn.linear_model.SGDRegressor`, so that ``l1`` gives
:class:`~sklearn.linear_model.Lasso`, ``elasticnet`` gives
:class:`~sklearn.linear_model.ElasticNet`, and ``l2`` gives
``Ridge(alpha * n_samples)``.  A penalty has a value and a proximal operator

.. math::

    \operatorname{prox}_{t R}(v) = \arg\min_z \tfrac12 \|z - v\|^2 + t R(z),

where the step ``t`` may be an array of per-coefficient steps (a diagonal
metric): every built-in penalty is separable and applies it elementwise.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..plugins import register
from ._base import Component

__all__ = ["L1", "L2", "ElasticNet", "Penalty", "rescaled", "soft_threshold"]


@runtime_checkable
class Penalty(Protocol):
    """The protocol of a penalty: ``value`` and ``prox``.

    ``coef`` has shape (n_features, n_targets); ``step`` is a float or an
    array broadcastable to ``coef``.

    Optional method a solver uses when present:

    - ``shrink(step)``: the factor ``c`` with ``prox(coef, step) == c * coef``
      for every ``coef``, for penalties whose proximal step is a pure scaling
      (ridge).  ``step`` may be an array of steps; the result has its shape.
      Mini-batch SGD then fuses the proximal step into its BLAS update.

    Examples
    --------
    >>> import numpy as np
    >>> class NonNegative:  # the indicator of coef >= 0: its prox projects
    ...     def value(self, coef):
    ...         return 0.0 if np.all(coef >= 0) else np.inf
    ...     def prox(self, coef, step):
    ...         return np.maximum(coef, 0.0)
    >>> isinstance(NonNegative(), Penalty), isinstance(L1(), Penalty)
    (True, True)
    """

    def value(self, coef) -> float:
        """R(coef)."""

    def prox(self, coef, step) -> np.ndarray:
        """The proximal operator of ``step · R`` at ``coef``."""


def soft_threshold(v, threshold):
    """``sign(v) · max(|v| - threshold, 0)``, the proximal operator of the L1 norm.

    Examples
    --------
    >>> import numpy as np
    >>> soft_threshold(np.array([-3.0, 0.5, 2.0]), 1.0)
    array([-2.,  0.,  1.])
    """
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)


@register("penalty", "l2")
class L2(Component):
    r"""Half the squared L2 norm, :math:`\tfrac12\|w\|_2^2` (ridge).

    Examples
    --------
    >>> import numpy as np
    >>> L2().prox(np.array([2.0, -4.0]), 1.0)
    array([ 1., -2.])
    """

    def value(self, coef):
        return 0.5 * float(np.sum(coef**2))

    def prox(self, coef, step):
        return coef / (1.0 + step)

    def shrink(self, step):
        """The scaling ``1 / (1 + step)`` that :meth:`prox` applies."""
        return 1.0 / (1.0 + np.asarray(step, dtype=np.float64))


@register("penalty", "l1")
class L1(Component):
    r"""The L1 norm, :math:`\|w\|_1` (lasso); its proximal step gives exact zeros.

    Examples
    --------
    >>> import numpy as np
    >>> L1().prox(np.array([2.0, -0.5]), 1.0)
    array([ 1., -0.])
    """

    def value(self, coef):
        return float(np.sum(np.abs(coef)))

    def prox(self, coef, step):
        return soft_threshold(coef, step)


@register("penalty", "elasticnet")
class ElasticNet(Component):
    r"""A mix of L1 and L2: :math:`\rho\|w\|_1 + \tfrac{1-\rho}2\|w\|_2^2`.

    Parameters
    ----------
    l1_ratio : float, default=0.15
        The mixing weight :math:`\rho \in [0, 1]`: 1 is ``l1``, 0 is ``l2``.

    Examples
    --------
    >>> import numpy as np
    >>> ElasticNet(l1_ratio=0.5).prox(np.array([3.0]), 2.0)  # (3 - 1) / (1 + 1)
    array([1.])
    """

    def __init__(self, l1_ratio=0.15):
        self.l1_ratio = l1_ratio

    def value(self, coef):
        rho = self.l1_ratio
        return float(rho * np.sum(np.abs(coef)) + 0.5 * (1 - rho) * np.sum(coef**2))

    def prox(self, coef, step):
        rho = self.l1_ratio
        return soft_threshold(coef, step * rho) / (1.0 + step * (1 - rho))


def rescaled(penalty, alpha, cx):
    """The penalty, strength and data scale of the problem on ``cx·X``.

    With ``β = cx·β'`` the predictions are unchanged and ``α R(cx β')`` is
    ``α cx^p R(β')`` for a penalty of degree p: L1 (p = 1), L2 (p = 2); the
    elastic net mixes both and gets a new ``l1_ratio``.  ``cx`` is lowered if
    the strength would overflow (it then dominates the data anyway), and set
    to 1 for any other penalty, whose degree is unknown.

    Examples
    --------
    >>> penalty, alpha, cx = rescaled(ElasticNet(l1_ratio=0.5), 1.0, 2.0)
    >>> penalty.l1_ratio, alpha, cx  # 0.5·2 for L1, 0.5·4 for L2
    (0.3333333333333333, 3.0, 2.0)
    """
    if cx == 1.0 or penalty is None or alpha == 0:
        return penalty, alpha, cx
    if not isinstance(penalty, (L1, L2, ElasticNet)):
        return penalty, alpha, 1.0
    rho = {L1: 1.0, L2: 0.0}.get(type(penalty))
    rho = float(penalty.l1_ratio) if rho is None else rho
    while True:
        # A strength that overflows dominates the data anyway: scale less.
        l1, l2 = alpha * rho * cx, alpha * (1 - rho) * cx * cx
        if (np.isfinite(l1 + l2) and l1 + l2 < 2.0**900) or cx <= 1.0:
            break
        cx *= 2.0**-64
    if isinstance(penalty, L1):
        return penalty, l1, cx
    if isinstance(penalty, L2):
        return penalty, l2, cx
    return ElasticNet(l1_ratio=l1 / (l1 + l2)), l1 + l2, cx
