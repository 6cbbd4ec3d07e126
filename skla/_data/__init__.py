"""The data every algorithm reads: weighted, centred least-squares problems and
the weighted column moments they are centred with.

Shared by all layers (estimators, algorithms, solver components); imports
nothing from them.
"""

from .moments import column_moments, is_rounding_noise, unit_weights
from .problem import Gram, LstsqProblem

__all__ = [
    "Gram",
    "LstsqProblem",
    "column_moments",
    "is_rounding_noise",
    "unit_weights",
]
