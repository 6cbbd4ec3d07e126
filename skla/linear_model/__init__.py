"""Linear regressors: pseudo-inverse least squares and gradient methods."""

from ._gd import GDRegressor
from ._pinv import PinvRegressor

__all__ = ["GDRegressor", "PinvRegressor"]
