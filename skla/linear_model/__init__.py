"""Linear regressors: pseudo-inverse least squares and gradient methods."""

from ._gd import GDRegressor
from ._pinv import PinvRegressor
from ._sgd import SGDMiniBatchRegressor

__all__ = ["GDRegressor", "PinvRegressor", "SGDMiniBatchRegressor"]
