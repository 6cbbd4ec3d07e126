"""The rows in memory: numpy arrays and scipy.sparse CSR/CSC matrices.

The home route: validation is scikit-learn's ``validate_data``, and each
fit runs on the rows themselves -- the solver components on the
least-squares problem, the SVD solvers on X, the SGD engine over batches.
Data whose entries lie beyond 1e±60 are fitted scaled by a power of two
(exact), again at the scale of every entry if the sampled one missed an
extreme entry (:meth:`Memory.at_scale`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    validate_data,
)

from .._algorithms.least_squares import solve_rows
from .._algorithms.objectives import posed_on_rows
from .._algorithms.scaling import power_of_two_scale, retry_at_full_scale
from .._algorithms.statistics import RowStatistics
from .._algorithms.svd_fit import svd_of_rows
from .._data import centred_problem
from ..plugins import resolve
from .base import NO_Y, FitData, check_columns

__all__ = ["MEMORY", "Memory"]

_FLOATS = (np.float64, np.float32)
_SPARSE = ("csr", "csc")


class Memory:
    """numpy and scipy.sparse input (see :class:`~skla._backends.base.Backend`)."""

    name = "numpy"
    compute_dtype = np.dtype("float64")  # of the row statistics
    fitted_in = "numpy"  # the namespace of the fitted arrays

    def validate(
        self,
        estimator,
        X,
        y=NO_Y,
        sample_weight=None,
        *,
        reset=True,
        allow_all_zero_weights=False,
        dense_finite=True,
    ):
        """``validate_data``: float X (CSR/CSC kept), y as a 2-D Y in X's
        dtype, non-negative weights.  ``dense_finite=False`` leaves dense
        entries to the caller's first pass (the SVD sums their squares)."""
        if y is NO_Y:  # a transformer's rows
            finite = dense_finite or sp.issparse(X)
            X = validate_data(
                estimator,
                X,
                reset=reset,
                accept_sparse=_SPARSE,
                dtype=_FLOATS,
                ensure_all_finite=finite,
            )
            return FitData(X, dtype=X.dtype)
        X, y = validate_data(
            estimator,
            X,
            y,
            reset=reset,
            accept_sparse=_SPARSE,
            dtype=_FLOATS,
            multi_output=True,
            y_numeric=True,
        )
        Y = np.asarray(y, dtype=X.dtype).reshape(len(y), -1)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight,
                X,
                dtype=X.dtype,
                ensure_non_negative=True,
                allow_all_zero_weights=allow_all_zero_weights,
            )
        return FitData(X, Y, sample_weight, y.ndim, X.dtype)

    def local_rows(self, estimator, X, y, sample_weight=None, *, what, **options):
        """:meth:`validate`: the rows are here already."""
        return self.validate(estimator, X, y, sample_weight, **options)

    def at_scale(self, fit, data, errors):
        return retry_at_full_scale(fit, data.X, power_of_two_scale(data.X), errors)

    def row_statistics(
        self, data, *, centre, gram=False, ranges=False, cholesky_tol=None
    ):
        Y = data.Y
        if Y is None:  # a transformer's rows: no targets
            Y = np.empty((data.X.shape[0], 0), dtype=data.dtype)
        return RowStatistics.of(
            data.X,
            Y,
            data.sample_weight,
            centre=centre,
            gram=gram,
            ranges=ranges,
            cholesky_tol=cholesky_tol,
        )

    def least_squares(self, data, solver, *, alpha, rtol, centre, x_scale, copy_X):
        component = resolve("lstsq_solver", solver, param="solver")
        return solve_rows(
            data.X,
            data.Y,
            data.sample_weight,
            component,
            alpha=alpha,
            rtol=rtol,
            centre=centre,
            x_scale=x_scale,
            copy_X=copy_X,
        )

    def regression_objective(self, data, loss, *, name, fit_intercept, x_scale, warm):
        X = data.X * x_scale if x_scale != 1.0 else data.X
        problem = centred_problem(X, data.Y, data.sample_weight, centre=fit_intercept)
        coef, intercept = (None, None) if warm is None else warm
        if coef is not None:
            coef = coef / x_scale  # the scaled problem's coefficients
        return posed_on_rows(
            problem, loss, fit_intercept=fit_intercept, coef=coef, intercept=intercept
        )

    def truncated_svd(
        self, data, solver, n_components, random_state, *, name, x_scale, coordinates
    ):
        return svd_of_rows(
            data.X,
            solver,
            n_components,
            random_state,
            scale=x_scale,
            coordinates_wanted=coordinates,
        )

    def sgd_fit(self, model, data, *, coef_init, intercept_init):
        """The engine's epochs over the rows (``model._fit_rows``), at the
        scale "auto" needs."""
        return model._fit_rows(data, coef_init, intercept_init, self)

    def apply(self, estimator, X, function, arrays, *, n_outputs, n_columns=None):
        if n_columns is None:
            X = validate_data(
                estimator, X, accept_sparse=_SPARSE, dtype=_FLOATS, reset=False
            )
        else:
            X = _checked_columns(X, n_columns)
        arrays = [np.asarray(a).astype(X.dtype, copy=False) for a in arrays]
        return function(X, *arrays)

    def publish(self, estimator, names):
        """Nothing to move: the fitted arrays are numpy's already."""

    def to_numpy(self, a):
        return np.asarray(a)


def _checked_columns(X, n_columns):
    """Dense float X with ``n_columns`` columns (inverse_transform's
    coordinates), or a clear error."""
    X = check_array(X, dtype=_FLOATS)
    check_columns(X.shape[1], n_columns)
    return X


MEMORY = Memory()
