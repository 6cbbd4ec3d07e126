"""What every backend shares: the validated data of a fit, and the protocol.

A backend is where the rows live -- in memory (numpy, scipy.sparse), on a
dask cluster, on an array-API device -- and gives the estimators the same
few operations there (see :class:`Backend`).  The stream of chunks that
``partial_fit`` folds in (:mod:`.stream`) asks each chunk's backend for its
row statistics.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import numpy as np

__all__ = [
    "NO_Y",
    "Backend",
    "FitData",
    "check_columns",
    "float_dtype",
    "set_columns",
]

#: ``validate``'s y for a transformer (y None is a regressor's missing y).
NO_Y = object()


class FitData(NamedTuple):
    """A fit's validated input, where it lives.

    ``Y`` is 2-D in memory and on a device; on dask it keeps y's shape and
    each chunk is made 2-D where it is read (None for a transformer).
    ``y_ndim`` is y's number of dimensions, which decides the shape of
    ``coef_``; ``dtype`` is the numpy float dtype of X (the fitted
    attributes take it).  ``allow_all_zero_weights`` tells a backend that
    reads the weights only when it reduces the rows (dask) that a later
    ``partial_fit`` chunk may weigh nothing.
    """

    X: Any
    Y: Any = None
    sample_weight: Any = None
    y_ndim: int | None = None
    dtype: Any = np.float64
    allow_all_zero_weights: bool = False  # where the weights are read later

    @property
    def shape(self):
        return tuple(self.X.shape)

    @property
    def n_targets(self):
        """Y's number of columns (0 without targets)."""
        if self.Y is None:
            return 0
        return 1 if self.Y.ndim == 1 else self.Y.shape[1]


def float_dtype(dtype):
    """``dtype`` if it is float32 or float64, else float64 (a numpy dtype)."""
    return np.dtype(dtype) if dtype in (np.float32, np.float64) else np.dtype("float64")


def check_columns(n, n_columns):
    """Refuse coordinates with other than ``n_columns`` columns (what
    ``inverse_transform`` reads, ``n_components_`` per row)."""
    if n != n_columns:
        raise ValueError(
            f"X has {n} columns; inverse_transform expects n_components_ = "
            f"{n_columns} coordinates per row."
        )


def set_columns(estimator, columns):
    """Set a new fit's ``n_features_in_`` and ``feature_names_in_`` from
    ``columns``, ``(n_features, names or None)``; None sets nothing (the
    backends that validate late set them in ``publish``, once the fit has
    succeeded)."""
    if columns is None:
        return
    estimator.n_features_in_, names = columns
    estimator.__dict__.pop("feature_names_in_", None)
    if names is not None:
        estimator.feature_names_in_ = names


class Backend(Protocol):
    """The operations an estimator asks of the place where its rows live.

    Every method takes the :class:`FitData` that :meth:`validate` returned;
    the estimators call nothing else, so a new backend is one class.
    """

    name: str
    compute_dtype: np.dtype  # the dtype its row statistics are computed in
    fitted_in: str  # the namespace (and device) of the fitted arrays

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
    ) -> FitData:
        """The input checked as ``validate_data`` does in memory (and with
        its words), as early as the shapes allow; sets or checks
        ``n_features_in_`` and ``feature_names_in_``."""

    def local_rows(self, estimator, X, y, sample_weight=None, *, what, **options):
        """The rows validated in this process's memory, for numpy code such
        as the SGD engine (``what``, named in a refusal)."""

    def at_scale(self, fit, data, errors):
        """``fit(scale)``, X scaled by a power of two where its entries lie
        beyond 1e±60 and the backend can rescale exactly (1.0 otherwise)."""

    def row_statistics(
        self, data, *, centre, gram=False, ranges=False, cholesky_tol=None
    ):
        """The mergeable :class:`~skla._algorithms.statistics.RowStatistics`
        (``cholesky_tol``: R by certified Cholesky where it may, see
        :meth:`RowStatistics.of <skla._algorithms.statistics.RowStatistics.of>`)."""

    def least_squares(self, data, solver, *, alpha, rtol, centre, x_scale, copy_X):
        """PinvRegressor's :class:`~skla._algorithms.least_squares.LstsqFit`."""

    def regression_objective(self, data, loss, *, name, fit_intercept, x_scale, warm):
        """GDRegressor's :class:`~skla._algorithms.objectives.PosedObjective`."""

    def truncated_svd(
        self, data, solver, n_components, random_state, *, name, x_scale, coordinates
    ):
        """TruncatedSVDCompressor's fit (``ExactSVD``-like) and ``X V_k``."""

    def sgd_fit(self, model, data, *, coef_init, intercept_init):
        """SGDMiniBatchRegressor's epochs; returns the fitted model."""

    def apply(self, estimator, X, function, arrays, *, n_outputs, n_columns=None):
        """``function(X, *arrays)`` after validating X against the fit:
        eager in memory and on a device, lazy (chunk by chunk) on dask."""

    def publish(self, estimator, names):
        """The fitted arrays ``names`` moved to the input's namespace."""

    def to_numpy(self, a):
        """A fitted array (or an input array) as a numpy array."""
