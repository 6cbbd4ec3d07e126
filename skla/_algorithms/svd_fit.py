"""TruncatedSVDCompressor's fit of in-memory rows: the solver, then the figures.

The other routes (a stream, dask, an array-API device) end in the same
record, :class:`~skla._algorithms.svd_figures.ExactSVD`: components,
singular values and figures.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.extmath import svd_flip
from sklearn.utils.validation import assert_all_finite

from .svd import truncated_svd
from .svd_figures import (
    ExactSVD,
    coordinates,
    coordinates_for_figures,
    figures,
    square_sums,
)

__all__ = ["svd_of_rows"]


def svd_of_rows(X, solver, n_components, random_state, *, scale, coordinates_wanted):
    """The truncated SVD of ``scale·X`` by the ``solver`` component, scaled
    back, and ``X V_k`` if ``coordinates_wanted`` (else None).

    One pass sums ‖X‖² and the total variance; it also checks the entries
    (NaN or inf: scikit-learn's error; ‖X‖² overflowing even after scaling:
    a ``FloatingPointError``, on which the caller retries at the scale of
    every entry).  Components take ``svd_flip``'s signs (``u_based_decision
    =False``) and X's dtype.
    """
    scaled = X * scale if scale != 1.0 else X
    with np.errstate(over="ignore", invalid="ignore"):
        total, total_var = square_sums(scaled)
    if not np.isfinite(total):
        assert_all_finite(X, input_name="X")  # NaN or inf: sklearn's error
        raise FloatingPointError(
            "‖X‖² overflows the floating-point range even after scaling X "
            "by a power of two."
        )
    U, s, Vt = truncated_svd(
        solver, scaled, n_components, random_state, squared_norm=total, compute_u=False
    )
    U, Vt = svd_flip(U, Vt, u_based_decision=False)
    components = np.asarray(Vt, dtype=X.dtype)
    Z = coordinates(X, components) if coordinates_wanted else None
    fit = figures(
        scaled,
        components,
        s,
        total=total,
        scale=scale,
        total_var=total_var,
        Z=coordinates_for_figures(Z, U, s, scale),
    )
    with np.errstate(over="ignore"):
        singular_values = np.asarray(s / scale, dtype=X.dtype)
    return ExactSVD(components, singular_values, fit), Z
