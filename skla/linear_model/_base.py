"""What skla's linear regressors share: validation, weighted centring, predict.

The estimator layer only: numerics live in the solvers and algorithms.

**Sample weights.**  Each regressor reads ``sample_weight`` as its
scikit-learn counterpart does, so that one is a drop-in for the other; the
three conventions differ in what multiplying every weight by 3 does:

=====================  ======================================  ================
estimator              objective                               weights × 3
=====================  ======================================  ================
PinvRegressor          Σ wᵢ rᵢ² + α‖β‖² (as ``Ridge``)         a weaker ridge
GDRegressor            Σ wᵢ ℓᵢ / Σ wᵢ + α R(β) (as ``Lasso``)  nothing changes
SGDMiniBatchRegressor  Σ wᵢ ℓᵢ / n + α R(β) (as SGDRegressor)  a weaker penalty
=====================  ======================================  ================

Without a penalty all three are invariant.  An integer weight k is the same
as repeating the row k times for PinvRegressor and GDRegressor; for
SGDMiniBatchRegressor it scales that row's step instead.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import MultiOutputMixin, RegressorMixin
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .._array_api import namespace_of
from .._dask import is_dask_collection, predict_blocks
from .._data import LstsqProblem, weighted_mean
from ..plugins import resolve

__all__ = ["LinearRegressorMixin"]


class LinearRegressorMixin(MultiOutputMixin, RegressorMixin):
    """Shared fit preparation and prediction for ``y ≈ X coef_ᵀ + intercept_``.

    Subclasses call :meth:`_validate_fit_data` and :meth:`_least_squares_problem`
    in ``fit``, compute a coefficient matrix of shape (n_features, n_targets),
    and hand it to :meth:`_set_coef`.
    """

    def _validate_fit_data(
        self, X, y, sample_weight, *, reset=True, allow_all_zero_weights=False
    ):
        """Validated X (float32/64, CSR/CSC), 2-D Y in X's dtype, weights or None.

        Also returns ``y.ndim``, which decides the shape of ``coef_``.
        ``reset=False`` checks X against the fitted ``n_features_in_`` and
        feature names instead of setting them (``partial_fit``), where a
        later chunk may have all-zero weights (``allow_all_zero_weights``).
        """
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
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
        return X, Y, sample_weight, y.ndim

    def _validate_namespace_data(self, ns, X, y, sample_weight):
        """:meth:`_validate_fit_data` for arrays of an array-API namespace
        ``ns`` (see :mod:`skla._array_api`): y and the weights follow X to
        its namespace and device.  Also returns X's numpy dtype."""
        xp = ns.xp
        y, sample_weight = ns.follow(y, sample_weight)
        X, y = validate_data(
            self,
            X,
            y,
            dtype=[xp.float64, xp.float32],
            multi_output=True,
            y_numeric=True,
        )
        Y = xp.reshape(xp.astype(y, X.dtype), (y.shape[0], -1))
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        dtype = np.float32 if X.dtype == xp.float32 else np.float64
        return X, Y, sample_weight, y.ndim, dtype

    def _least_squares_problem(self, X, Y, sample_weight, *, overwrite_X=False):
        """The centred (if ``fit_intercept``), weighted problem, with X uncopied."""
        if self.fit_intercept:
            X_offset = weighted_mean(X, sample_weight)
            Y_offset = weighted_mean(Y, sample_weight)
        else:
            X_offset = Y_offset = None
        return LstsqProblem(
            X, Y, sample_weight, X_offset, Y_offset, overwrite_X=overwrite_X
        )

    def _resolve_loss_and_penalty(self):
        """The ``loss`` and ``penalty`` components (penalty None if unset)."""
        loss = resolve("loss", self.loss, param="loss", epsilon=self.epsilon)
        if self.penalty is None:
            return loss, None
        penalty = resolve(
            "penalty", self.penalty, param="penalty", l1_ratio=self.l1_ratio
        )
        return loss, penalty

    @staticmethod
    def _coef_matrix(coef, n_features, n_targets, *, name="coef_"):
        """A ``coef_``-shaped array as the (n_features, n_targets) float64
        matrix the algorithms work with (a new array)."""
        coef = np.asarray(coef, dtype=np.float64)
        if coef.size != n_features * n_targets:
            raise ValueError(
                f"{name} has {coef.size} values; expected n_targets × "
                f"n_features = {n_targets} × {n_features}."
            )
        return coef.reshape(n_targets, n_features).T.copy()

    def _set_coef(self, coef, problem, y_ndim, intercept=None, *, dtype=None):
        """Store ``coef_`` and ``intercept_`` from coef (n_features, n_targets).

        By default the intercept is ``ν - μᵀ coef``, the centred least-squares
        fit moved back; solvers that fit it otherwise pass it in.  Both are
        stored as new arrays in ``dtype`` (the problem's by default), never
        as views of an algorithm's state, which may change later
        (``partial_fit``).
        """
        dtype = problem.dtype if dtype is None else dtype
        if intercept is None:
            if problem is None or problem.X_offset is None:
                intercept = np.zeros(coef.shape[1])
            else:
                intercept = problem.Y_offset - problem.X_offset @ coef
        coef = np.array(coef.T, dtype=dtype, order="C")
        intercept = np.array(intercept, dtype=dtype)
        if y_ndim == 1:
            self.coef_ = coef[0]
            self.intercept_ = intercept[0] if self.fit_intercept else 0.0
        else:
            self.coef_ = coef
            self.intercept_ = intercept if self.fit_intercept else 0.0

    def _starts_stream(self):
        """Whether this ``partial_fit`` call starts a stream; warn when it
        follows a ``fit``, whose rows are not in the statistics."""
        if hasattr(self, "_statistics"):
            return False
        if hasattr(self, "coef_"):
            warnings.warn(
                f"{type(self).__name__}.partial_fit after fit starts a new "
                "stream: the rows given to fit are not in it. Feed every chunk "
                "through partial_fit for the fit of all rows.",
                UserWarning,
                stacklevel=3,
            )
        return True

    def _fitted_on_dask(self, X):
        """The input attributes of a fit on a dask array (no feature names)."""
        self.n_features_in_ = X.shape[1]
        self.__dict__.pop("feature_names_in_", None)
        self.__dict__.pop("_statistics", None)  # partial_fit starts over

    def _merged_statistics(self, chunk):
        """``partial_fit``: the statistics seen so far merged with the chunk's,
        or a clear refusal (another ``fit_intercept`` or number of targets)."""
        seen = self._statistics
        if seen.centred != self.fit_intercept:
            raise ValueError(
                f"fit_intercept={self.fit_intercept} differs from the earlier "
                "partial_fit calls; call fit, or partial_fit on a new "
                "estimator, to change it."
            )
        if chunk.n_targets != seen.n_targets:
            raise ValueError(
                f"y has {chunk.n_targets} target(s) but the earlier chunks had "
                f"{seen.n_targets}."
            )
        return seen.merge(chunk)

    def predict(self, X):
        """Predict with the linear model, ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, in the dtype of ``coef_`` (float32 stays float32).
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict")
        ns = namespace_of(X)
        if ns is not None:  # in X's namespace, on its device
            X = validate_data(
                self, X, dtype=[ns.xp.float64, ns.xp.float32], reset=False
            )
            coef = ns.xp.astype(self.coef_, X.dtype)
            return (X @ coef if coef.ndim == 1 else X @ coef.T) + self.intercept_
        if is_dask_collection(X):  # lazy, chunked by rows like X
            outputs = None if np.ndim(self.coef_) == 1 else self.coef_.shape[0]
            # Blocks are predicted in X's float dtype (float64 otherwise).
            dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
            return predict_blocks(self.predict, X, outputs, dtype)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            reset=False,
        )
        coef = self.coef_.astype(X.dtype, copy=False)
        return safe_sparse_dot(X, coef.T, dense_output=True) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
