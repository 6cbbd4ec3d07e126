"""Arrays of an array-API namespace (torch, cupy, array_api_strict...).

The heavy passes over X run in X's namespace, on its device (see
:mod:`.namespace`); the small statistics come to numpy, where the solvers
of the other routes finish the fit; the fitted arrays go back to X's
namespace and device (:meth:`ArrayAPI.publish`).
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.utils.validation import _check_sample_weight, validate_data

from ..._algorithms.least_squares import (
    routed_statistics,
    solve_statistics,
)
from ..._algorithms.objectives import posed_on_statistics
from ..base import NO_Y, FitData, check_columns, set_columns
from .namespace import Namespace, namespace_of, row_statistics, unsupported
from .svd import namespace_svd

__all__ = ["ArrayAPI", "Namespace", "namespace_of"]

# PinvRegressor's solvers with a route here: those that row statistics serve.
_LSTSQ_SOLVERS = ("auto", "gram", "qr", "svd")


class ArrayAPI:
    """Input of one array-API namespace and device (see
    :class:`~skla._backends.base.Backend`)."""

    def __init__(self, ns: Namespace):
        self.ns = ns
        self.name = ns.name
        self._columns = None  # a new fit's (n_features_in_, feature_names_in_)
        # The row statistics' dtype: float32 on a device without float64.
        self.compute_dtype = np.dtype(np.float64 if ns.has_float64 else np.float32)
        self.fitted_in = str(ns)  # the namespace and device of the fitted arrays

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
        """``validate_data`` in X's namespace: y and the weights follow X to
        its namespace and device.  A new fit's ``n_features_in_`` and
        ``feature_names_in_`` wait for :meth:`publish` (read off a copy of
        the estimator): a fit refused later -- a solver or loss without a
        route here -- leaves the estimator as it was."""
        xp = self.ns.xp
        floats = [xp.float64, xp.float32]
        checked = copy.copy(estimator) if reset else estimator
        if y is NO_Y:  # a transformer's rows
            X = validate_data(checked, X, dtype=floats, reset=reset)
            self._columns = _columns(checked) if reset else None
            return FitData(X, dtype=self._numpy_dtype(X))
        y, sample_weight = self.ns.follow(y, sample_weight)
        X, y = validate_data(
            checked,
            X,
            y,
            dtype=floats,
            reset=reset,
            multi_output=True,
            y_numeric=True,
        )
        self._columns = _columns(checked) if reset else None
        Y = xp.reshape(xp.astype(y, X.dtype), (y.shape[0], -1))
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight,
                X,
                dtype=X.dtype,
                ensure_non_negative=True,
                allow_all_zero_weights=allow_all_zero_weights,
            )
        return FitData(X, Y, sample_weight, y.ndim, self._numpy_dtype(X))

    def _numpy_dtype(self, X):
        return np.dtype(np.float32 if X.dtype == self.ns.xp.float32 else np.float64)

    def local_rows(self, estimator, X, y, sample_weight=None, *, what, **options):
        """Refused: ``what`` is numpy code, and copying the chunk off the
        device silently would hide the cost."""
        raise unsupported(what, self.ns)

    def at_scale(self, fit, data, errors):
        return fit(1.0)

    def row_statistics(
        self, data, *, centre, gram=False, ranges=False, cholesky_tol=None
    ):
        # cholesky_tol is not taken: the device's QR, where its float32
        # Gram matrix would rarely pass.
        X, Y, w = data.X, data.Y, data.sample_weight
        return row_statistics(self.ns, X, Y, w, centre=centre, gram=gram, ranges=ranges)

    def least_squares(self, data, solver, *, alpha, rtol, centre, x_scale, copy_X):
        """The row statistics formed on the device (a float32 scatter matrix,
        on a device without float64, fails ``"auto"``'s test: R instead);
        ``"svd"`` takes the R factor, whose SVD is X's."""
        if not (isinstance(solver, str) and solver in _LSTSQ_SOLVERS):
            raise unsupported(f"PinvRegressor(solver={solver!r})", self.ns)

        def statistics_of(gram):
            return self.row_statistics(data, centre=centre, gram=gram)

        statistics = routed_statistics(
            statistics_of,
            solver,
            data.shape,
            alpha=alpha,
            rtol=rtol,
            dtype=data.dtype,
            gram_first=self.ns.has_float64,
        )
        return solve_statistics(
            statistics,
            solver,
            alpha=alpha,
            rtol=rtol,
            dtype=data.dtype,
            how=self.name,
            compute=self.compute_dtype,
        )

    def regression_objective(self, data, loss, *, name, fit_intercept, x_scale, warm):
        """The squared loss on the scatter matrix formed on the device."""
        if not getattr(loss, "quadratic", False):
            raise unsupported(f"GDRegressor(loss={name!r})", self.ns)
        statistics = self.row_statistics(
            data, centre=fit_intercept, gram=True, ranges=True
        )
        return posed_on_statistics(
            statistics, data.dtype, None if warm is None else warm[0]
        )

    def truncated_svd(
        self, data, solver, n_components, random_state, *, name, x_scale, coordinates
    ):
        fit = namespace_svd(self.ns, data.X, n_components, solver, random_state)
        return fit, fit.Z

    def sgd_fit(self, model, data, *, coef_init, intercept_init):
        raise unsupported("SGDMiniBatchRegressor", self.ns)

    def apply(self, estimator, X, function, arrays, *, n_outputs, n_columns=None):
        xp = self.ns.xp
        floats = [xp.float64, xp.float32]
        if n_columns is None:
            X = validate_data(estimator, X, dtype=floats, reset=False)
        else:
            from sklearn.utils.validation import check_array

            X = check_array(X, dtype=floats)
            check_columns(X.shape[1], n_columns)
        cast = [a if isinstance(a, float) else xp.astype(a, X.dtype) for a in arrays]
        return function(X, *cast)

    def publish(self, estimator, names):
        """The fitted arrays ``names`` moved to X's namespace and device, and
        a new fit's input columns set."""
        self.ns.move_attributes(estimator, names)
        set_columns(estimator, self._columns)

    def to_numpy(self, a):
        return self.ns.to_numpy(a)


def _columns(estimator):
    """``(n_features_in_, feature_names_in_ or None)`` as validation set them."""
    return estimator.n_features_in_, getattr(estimator, "feature_names_in_", None)
