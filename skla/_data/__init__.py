"""The data every algorithm reads: weighted, centred least-squares problems and
the weighted column moments they are centred with.

Shared by all layers (estimators, algorithms, solver components); imports
nothing from them.
"""

from .centred import centred_dot, centred_tdot
from .gram import Gram
from .moments import (
    batch_weights,
    column_moments,
    constant_columns,
    is_rounding_noise,
    unit_weights,
    weighted_mean,
)
from .problem import LstsqProblem, centred_problem

__all__ = [
    "Gram",
    "LstsqProblem",
    "batch_weights",
    "centred_dot",
    "centred_problem",
    "centred_tdot",
    "column_moments",
    "constant_columns",
    "is_rounding_noise",
    "unit_weights",
    "weighted_mean",
]
