"""Linear regressors: pseudo-inverse least squares and gradient methods."""

from ._pinv import PinvRegressor

__all__ = ["PinvRegressor"]
