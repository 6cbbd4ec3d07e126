"""skla: scikit-learn compatible linear-algebra learners.

Estimators
----------
PinvRegressor
    Minimum-norm least squares through the pseudo-inverse, with ridge.
GDRegressor
    Full-batch (proximal, accelerated) gradient descent.
SGDMiniBatchRegressor
    Stochastic gradient descent on mini-batches, with ``partial_fit``.
TruncatedSVDCompressor
    Rank-k approximation by truncated SVD (the seed's photo compression).

Components are registered by kind; see :func:`names`, :func:`register` and
:func:`resolve`.
"""

from . import components  # noqa: F401  (registers skla's own components)
from .decomposition import TruncatedSVDCompressor
from .linear_model import GDRegressor, PinvRegressor, SGDMiniBatchRegressor
from .plugins import (
    describe,
    kinds,
    names,
    register,
    reload_entry_points,
    resolve,
    unregister,
)

__version__ = "0.1.0"

__all__ = [
    "GDRegressor",
    "PinvRegressor",
    "SGDMiniBatchRegressor",
    "TruncatedSVDCompressor",
    "__version__",
    "describe",
    "kinds",
    "names",
    "register",
    "reload_entry_points",
    "resolve",
    "unregister",
]
