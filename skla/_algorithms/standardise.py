r"""Centred, scaled coordinates: the diagonal preconditioner of mini-batch SGD.

On raw data one step size cannot suit every feature and the intercept: the
step that is stable for the largest-scale direction starves the others.  In
the coordinates

.. math::

    z = (x - \text{shift}) / \text{scale}, \qquad
    \gamma = \text{scale} \cdot \beta, \qquad
    c = b + \text{shift}^\top \beta

every feature has unit spread and the intercept is decoupled from the
features' means, while the model is the same (:math:`z^\top\gamma + c =
x^\top\beta + b`).  The penalty stays on :math:`\beta`: its proximal step in
these coordinates takes one step per coefficient (see
:meth:`Standardisation.prox`), so the objective is unchanged.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._data import column_moments, is_rounding_noise, unit_weights

__all__ = ["Standardisation", "measure"]


class Standardisation:
    """``z = (x - shift) / scale`` and the coefficients' change of variables.

    Parameters
    ----------
    shift, scale : ndarray of shape (n_features,)
        ``scale > 0``; ``shift`` is zero without an intercept.

    Examples
    --------
    >>> import numpy as np
    >>> s = Standardisation(np.array([10.0]), np.array([2.0]))
    >>> coef, intercept = np.array([[3.0]]), np.array([1.0])
    >>> s.to_scaled(coef, intercept); coef, intercept  # γ = 2·3, c = 1 + 10·3
    (array([[6.]]), array([31.]))
    >>> s.to_raw(coef, intercept); coef, intercept
    (array([[3.]]), array([1.]))
    """

    def __init__(self, shift, scale):
        self.shift = shift
        self.scale = scale

    @classmethod
    def from_moments(cls, mean, variance, *, fit_intercept, dtype):
        """Centre (with an intercept) and scale by the spread of each column.

        Without an intercept the columns are only scaled, by their root mean
        square.  A column that does not vary is scaled by its magnitude (its
        rounding noise after centring stays at the dtype's resolution), or,
        if it is zero, by the median scale of the others.
        """
        if fit_intercept:
            shift, spread = mean, np.sqrt(variance)
        else:
            shift, spread = np.zeros_like(mean), np.sqrt(variance + mean**2)
        varies = ~is_rounding_noise(spread**2, shift, dtype)
        typical = float(np.median(spread[varies])) if varies.any() else 1.0
        scale = np.where(varies, spread, np.where(shift != 0, np.abs(shift), typical))
        return cls(shift.astype(dtype), scale.astype(dtype))

    def is_trivial(self):
        """Whether the data are already centred and scaled well enough."""
        return bool(
            np.all(np.abs(self.shift) <= 0.25 * self.scale)
            and np.all(np.abs(np.log2(self.scale)) <= 1)
        )

    @property
    def offset(self):
        """``shift / scale``: what a sparse window, scaled only, still lacks."""
        return self.shift / self.scale

    def transform(self, Xw, out):
        """The rows in these coordinates: dense into ``out``, sparse scaled.

        ``out`` may be ``Xw`` itself (a window buffer, never X).  Sparse rows
        are scaled but not centred, to stay sparse; the update centres them
        implicitly with :attr:`offset`.
        """
        if sp.issparse(Xw):
            return (Xw @ sp.diags(1.0 / self.scale)).tocsr()
        np.subtract(Xw, self.shift, out=out)
        return np.divide(out, self.scale, out=out)

    def _moved(self, coef):
        """``shiftᵀβ`` in float64: with large means it cancels most of ``c``."""
        return self.shift.astype(np.float64) @ coef.astype(np.float64)

    def to_scaled(self, coef, intercept):
        """``(β, b) -> (γ, c)`` in place; ``coef`` is (n_features, n_targets)."""
        intercept[...] = intercept + self._moved(coef)
        coef *= self.scale[:, None]

    def to_raw(self, coef, intercept):
        """``(γ, c) -> (β, b)`` in place.

        The intercept is computed from the rounded ``β`` in float64, so that
        ``xᵀβ + b`` reproduces ``zᵀγ + c`` even in float32.
        """
        coef /= self.scale[:, None]
        intercept[...] = intercept - self._moved(coef)

    def raw(self, coef, intercept):
        """``(γ, c) -> (β, b)`` as new arrays (e.g. for averages)."""
        coef = (coef / self.scale[:, None]).astype(coef.dtype)
        return coef, intercept - self._moved(coef)

    def gradient(self, grad, grad_intercept):
        """A gradient in ``(β, b)`` as a gradient in ``(γ, c)``."""
        return (grad - np.outer(self.shift, grad_intercept)) / self.scale[:, None]

    def prox(self, penalty, coef, step):
        """The prox of ``step · R(β)`` in the scaled coordinates, at ``γ``.

        ``scale · prox_R(γ / scale, step / scale²)``: for a separable R, one
        step per coefficient, which the penalty protocol allows.
        """
        scale = self.scale[:, None]
        with np.errstate(over="ignore"):  # an infinite step: the prox is 0
            return penalty.prox(coef / scale, step / scale**2) * scale

    def shrink(self, penalty, steps):
        """Per-coefficient ridge factors of the steps ``steps``, (n, d)."""
        with np.errstate(over="ignore"):  # an infinite step shrinks to 0
            return penalty.shrink(np.outer(steps, self.scale**-2.0))


def measure(
    X, sample_weight, rows, window, window_weights, *, fit_intercept, precondition
):
    """The metric of standardised coordinates, and the preconditioner if any.

    The moments are read off the first ``window`` of rows.  With
    ``precondition``, when they show that the data are not already
    standardised -- or X is sparse, where a window can miss a rare feature --
    they are measured again over all the rows of this pass (one more read of
    X), unless the window holds them all (one batch an epoch); the metric of
    the optimality check alone needs no more than the window.

    Returns
    -------
    metric : Standardisation
        The coordinates in which convergence is judged: always centred.
    preconditioner : Standardisation or None
        None when the data are already standardised: the raw coordinates
        will do, at no cost.
    """
    dtype = window.dtype
    v = unit_weights(window_weights, window.shape[0])
    mean, variance = column_moments(window, v)
    metric = Standardisation.from_moments(
        mean, variance, fit_intercept=True, dtype=dtype
    )
    if not precondition or (metric.is_trivial() and not sp.issparse(X)):
        return metric, None
    n = X.shape[0] if rows is None else len(rows)
    if window.shape[0] < n:
        weights = sample_weight
        if weights is not None and rows is not None:
            weights = weights[rows]
        weights = unit_weights(weights, n)
        mean, variance = column_moments(X, weights, rows, pilot=mean)
        metric = Standardisation.from_moments(
            mean, variance, fit_intercept=True, dtype=dtype
        )
    if fit_intercept:
        return metric, None if metric.is_trivial() else metric
    # Without an intercept the features can be scaled, not centred.
    scaled = Standardisation.from_moments(
        mean, variance, fit_intercept=False, dtype=dtype
    )
    return metric, None if scaled.is_trivial() else scaled
