"""Dask arrays and DataFrames: every pass on the cluster, the small solve here.

Validation checks what the shapes allow before any computation (the
columns, their names, the rows of y and of the weights); the entries are
checked where each chunk lives, and an invalid chunk is named in the
error (see :mod:`.rows`).  The fits:

- row statistics reduced in a tree (PinvRegressor, GDRegressor's squared
  loss, TruncatedSVDCompressor's exact route; :mod:`.rows`);
- a map-reduce of a loss's value and gradient per point over persisted
  chunks (GDRegressor's other losses, SGD's optimality check; :mod:`.loss`);
- the randomized range finder's products (:mod:`.svd`, :mod:`.products`);
- ``partial_fit`` travelling to the chunks (SGDMiniBatchRegressor; :mod:`.sgd`);
- predictions and coordinates as lazy dask arrays chunked like X's rows.

The computation runs on the active ``distributed.Client`` if there is one,
else on dask's default scheduler; dask is imported only here, inside the
functions, so ``import skla`` does not import it.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import _get_feature_names, validate_data

from ..._algorithms.least_squares import routed_statistics, solve_statistics
from ..._algorithms.objectives import PosedObjective, posed_on_statistics
from ..._algorithms.svd_figures import coordinates as project
from ..._algorithms.svd_figures import exact_svd_figures
from ..base import NO_Y, FitData, check_columns, float_dtype, set_columns
from .rows import (
    as_array,
    check_rows,
    is_dask_collection,
    map_rows,
    row_statistics,
    rows_like,
)

__all__ = ["Dask", "is_dask_collection"]


class Dask:
    """dask arrays, DataFrames and Series (see
    :class:`~skla._backends.base.Backend`)."""

    name = "dask"
    compute_dtype = np.dtype("float64")  # of the row statistics
    fitted_in = "numpy"  # the namespace of the fitted arrays
    _columns = None  # a new fit's (n_features_in_, feature_names_in_)

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
        """X as whole-row chunks of known sizes; ``n_features_in_`` and
        ``feature_names_in_`` (a DataFrame's columns) set or checked as in
        memory; y and the weights chunked like X's rows.  All-zero weights
        are refused by the fit's first reduction (one pass, not two)."""
        X = self._rows(estimator, X, reset=reset)
        dtype = float_dtype(X.dtype)
        if y is NO_Y:  # a transformer's rows
            return FitData(X, dtype=dtype)
        if y is None:  # scikit-learn's words
            raise ValueError(
                f"{type(estimator).__name__} requires y to be passed, but the "
                "target y is None."
            )
        Y = rows_like(X, y, "y")
        if sample_weight is not None:
            sample_weight = rows_like(X, sample_weight, "sample_weight")
        zero_weights = allow_all_zero_weights  # checked by the first reduction
        return FitData(X, Y, sample_weight, Y.ndim, dtype, zero_weights)

    def _rows(self, estimator, X, *, reset):
        """X's chunks, and its columns checked against the fit (scikit-
        learn's checks, on the DataFrame's empty meta or an empty array of
        X's width).  A new fit's ``n_features_in_`` and ``feature_names_in_``
        wait for :meth:`publish`: the entries are checked at compute time,
        and a fit that fails there leaves the estimator as it was."""
        X, meta = as_array(X, "X")
        X = check_rows(X)
        self._check_columns(estimator, X, meta, reset=reset)
        return X

    def _check_columns(self, estimator, X, meta, *, reset):
        columns = meta if meta is not None else np.empty((0, X.shape[1]))
        self._columns = None  # what publish sets: a new fit's columns
        if reset:
            self._columns = (X.shape[1], _get_feature_names(columns))
        else:
            validate_data(estimator, columns, reset=False, skip_check_array=True)

    def local_rows(self, estimator, X, y, sample_weight=None, *, what, **options):
        """The chunk computed into this process, then validated in memory
        (a dask chunk of a ``partial_fit`` stream, for numpy code)."""
        import dask

        from ..memory import MEMORY

        X, y, sample_weight = dask.compute(X, y, sample_weight)
        return MEMORY.validate(estimator, X, y, sample_weight, **options)

    def at_scale(self, fit, data, errors):
        return fit(1.0)

    def row_statistics(
        self, data, *, centre, gram=False, ranges=False, cholesky_tol=None
    ):
        X, Y, w = data.X, data.Y, data.sample_weight
        zero = data.allow_all_zero_weights
        return row_statistics(
            X,
            Y,
            w,
            centre=centre,
            gram=gram,
            ranges=ranges,
            allow_all_zero_weights=zero,
            cholesky_tol=cholesky_tol,
        )

    def least_squares(self, data, solver, *, alpha, rtol, centre, x_scale, copy_X):
        """Row statistics routed as ``solver`` asks (any solver other than
        ``"auto"`` and ``"gram"`` takes the R factor, exact at any
        condition number)."""

        def statistics_of(gram):
            return row_statistics(
                data.X,
                data.Y,
                data.sample_weight,
                centre=centre,
                gram=gram,
                tolerate_range=solver == "auto",
            )

        statistics = routed_statistics(
            statistics_of, solver, data.shape, alpha=alpha, rtol=rtol, dtype=data.dtype
        )
        return solve_statistics(
            statistics, solver, alpha=alpha, rtol=rtol, dtype=data.dtype, how="dask"
        )

    def regression_objective(self, data, loss, *, name, fit_intercept, x_scale, warm):
        """The squared loss: the scatter matrix reduced once.  Other losses:
        the chunks persisted on the workers, one map-reduce of value and
        gradient per point (:class:`~.loss.ChunkedLossObjective`)."""
        options = {"centre": fit_intercept, "gram": True, "ranges": True}
        if getattr(loss, "quadratic", False):
            statistics = self.row_statistics(data, **options)
            return posed_on_statistics(
                statistics, data.dtype, None if warm is None else warm[0]
            )
        from .loss import ChunkedLossObjective, chunked_form, persist_blocks
        from .rows import block_statistics

        chunked_form(loss, name)  # refused before any pass
        blocks = persist_blocks(data.X, data.Y, data.sample_weight)
        statistics = block_statistics(blocks, **options)
        objective = ChunkedLossObjective(
            blocks, loss, name, statistics, fit_intercept, data.dtype
        )
        return _posed_chunked(objective, statistics, fit_intercept, warm)

    def truncated_svd(
        self, data, solver, n_components, random_state, *, name, x_scale, coordinates
    ):
        """The exact SVD of X's R factor (one pass; d² numbers per chunk
        travel) or a randomized range finder (d × l numbers travel), as
        :func:`~.svd.range_finder` chooses; ``X V_k`` lazily."""
        from .svd import randomized_svd, range_finder

        finder = range_finder(solver, data.X.shape[1], name)
        if finder is None:
            statistics = self.row_statistics(data, centre=True)
            fit = exact_svd_figures(statistics, n_components)
        else:
            fit = randomized_svd(data.X, n_components, finder, random_state)
        components = np.asarray(fit.components, dtype=data.dtype)
        Z = None
        if coordinates:
            k = len(fit.singular_values)
            Z = map_rows(project, data.X, (components,), k, data.dtype)
        return fit, Z

    def sgd_fit(self, model, data, *, coef_init, intercept_init):
        from .sgd import fit_epochs

        return fit_epochs(
            model, data, coef_init=coef_init, intercept_init=intercept_init
        )

    def apply(self, estimator, X, function, arrays, *, n_outputs, n_columns=None):
        """Checked against the fit now (the shapes are known); computed
        lazily, chunk by chunk, in X's float dtype."""
        X, meta = as_array(X, "X", sizes=False)  # the rows may stay unknown
        if X.ndim != 2:
            raise ValueError(
                f"Expected a 2-D dask array for X, got {X.ndim} dimension(s)."
            )
        if n_columns is None:
            self._check_columns(estimator, X, meta, reset=False)
        else:
            check_columns(X.shape[1], n_columns)
        dtype = float_dtype(X.dtype)
        return map_rows(function, X, tuple(arrays), n_outputs, dtype)

    def publish(self, estimator, names):
        """The fitted arrays are numpy's already; the input's columns are
        set now that the fit has succeeded."""
        set_columns(estimator, self._columns)

    def to_numpy(self, a):
        return np.asarray(a)


def _posed_chunked(objective, statistics, fit_intercept, warm):
    """A :class:`~.loss.ChunkedLossObjective`, posed: θ stacks β over the
    offset of centred data (``b + μβ``), from ``warm`` (zeros if None)."""
    d, k = statistics.n_features, statistics.n_targets
    theta = np.zeros((d + fit_intercept, k))
    mean = statistics.mean[:d] if fit_intercept else None
    if warm is not None:
        coef, intercept = warm
        theta[:d] = coef
        if fit_intercept:
            theta[d] = intercept + mean @ coef

    def read(theta):
        beta = theta[:d]
        return beta, (theta[d] - mean @ beta) if fit_intercept else None

    return PosedObjective(objective, theta, read)
