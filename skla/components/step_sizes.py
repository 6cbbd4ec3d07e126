r"""Step-size rules for full-batch (proximal) gradient descent.

The seed's update is :math:`\beta \leftarrow \beta - \eta \nabla`.  A rule
chooses :math:`\eta` (see :class:`StepSize`).  The three built-ins are
one rule with different options -- ``auto`` (1/L in the preconditioned
metric, with backtracking), ``armijo`` (backtracking from ``eta0``) and
``constant`` (the seed's fixed ``eta0``) -- kept as registered names so that
``learning_rate`` is a string a grid search can try, and so that another
package can add a rule.  The sufficient-decrease (Armijo) condition of
backtracking is :math:`f(x^+) \le f(z) + \nabla f(z)^\top (x^+ - z) +
\|x^+ - z\|^2 / (2\eta)`; preconditioning makes features on scales 1000×
apart converge as fast as standardised ones.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..plugins import register
from ._base import Component

__all__ = ["Armijo", "AutoStep", "ConstantStep", "StepSize"]


@runtime_checkable
class StepSize(Protocol):
    """The protocol of a step-size rule: ``initial(lipschitz, eta0)``.

    ``initial`` gets the Lipschitz constant ``L`` of the gradient (None when
    the loss is not smooth) and the user's ``eta0``, and returns the first
    step.

    Optional attributes the solver uses when present (default in brackets):

    - ``backtrack: bool`` [False]: halve the step until the
      sufficient-decrease (Armijo) condition holds;
    - ``grow: float`` [1.0]: multiply the step by this factor before each
      iteration (> 1 lets a backtracking rule recover from a small start);
    - ``precondition: bool`` [False]: scale each coefficient's step by the
      inverse of its column's curvature (a diagonal metric), and measure
      ``L`` in that metric.

    Examples
    --------
    >>> class Half:
    ...     backtrack = True
    ...     def initial(self, lipschitz, eta0):
    ...         return 0.5 / lipschitz if lipschitz else eta0
    >>> isinstance(Half(), StepSize), Half().initial(4.0, eta0=0.01)
    (True, 0.125)
    """

    def initial(self, lipschitz: float | None, eta0: float) -> float:
        """The first step size."""


@register("step_size", "auto")
class AutoStep(Component):
    """``1 / L`` in the diagonally preconditioned metric, safeguarded.

    ``L`` is the largest eigenvalue of the preconditioned, weighted data times
    the loss's smoothness: the safe step of gradient descent, found without
    tuning.  A backtracking safeguard halves it if ``L`` was underestimated;
    losses without a smoothness bound start from ``eta0`` and backtrack.

    Examples
    --------
    >>> AutoStep().initial(4.0, eta0=0.01)
    0.25
    """

    backtrack = True
    grow = 1.0
    precondition = True

    def initial(self, lipschitz, eta0):
        return 1.0 / lipschitz if lipschitz else eta0


@register("step_size", "armijo")
class Armijo(Component):
    """Armijo backtracking from ``eta0``: the step halves until it decreases enough.

    Parameters
    ----------
    grow : float, default=1.0
        Factor applied to the step before each iteration, >= 1.  Values above
        1 let a small ``eta0`` recover, but a step that changes every
        iteration spoils FISTA's momentum (measured: > 5000 iterations with
        1.5 where 1.0 needs about 30), so the default keeps it.

    Examples
    --------
    >>> Armijo().initial(None, eta0=0.5)
    0.5
    """

    backtrack = True
    precondition = True

    def __init__(self, grow=1.0):
        self.grow = grow

    def initial(self, lipschitz, eta0):
        return eta0


@register("step_size", "constant")
class ConstantStep(Component):
    """The seed's fixed step, ``eta0``, on the raw coefficients.

    No preconditioning and no safeguard: a step above ``2 / L`` diverges, which
    the solver detects and reports.

    Examples
    --------
    >>> ConstantStep().initial(100.0, eta0=0.01)
    0.01
    """

    backtrack = False
    grow = 1.0
    precondition = False

    def initial(self, lipschitz, eta0):
        return eta0
