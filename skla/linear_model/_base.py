"""What skla's linear regressors share: components, ``coef_``, predict.

The estimator layer only: validation and the passes over the rows live in
the backends (:mod:`skla._backends`), numerics in the algorithms.

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

from functools import partial

import numpy as np
from sklearn.base import MultiOutputMixin, RegressorMixin
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils.validation import check_is_fitted

from .._backends import backend_for
from .._doc_links import DocLinkMixin
from ..plugins import resolve
from ..utils._typing import ArrayResult, MatrixLike

__all__ = ["LinearRegressorMixin"]


class LinearRegressorMixin(DocLinkMixin, MultiOutputMixin, RegressorMixin):
    """Shared fit preparation and prediction for ``y ≈ X coef_ᵀ + intercept_``.

    Subclasses validate and fit through their input's backend
    (:func:`~skla._backends.backend_for`), compute a coefficient matrix of
    shape (n_features, n_targets), and hand it to :meth:`_set_coef`.
    """

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

    def _warm_start(self, backend, data):
        """``(coef, intercept)`` of the last fit as numpy arrays, shaped for
        the algorithms, when ``warm_start`` and fitted; else None."""
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        d, k = data.shape[1], data.n_targets
        coef = self._coef_matrix(backend.to_numpy(self.coef_), d, k)
        intercept = np.reshape(backend.to_numpy(self.intercept_), -1)
        return coef, np.broadcast_to(intercept.astype(np.float64), (k,))

    def _set_coef(self, coef, y_ndim, intercept=None, *, dtype):
        """Store ``coef_`` and ``intercept_`` from coef (n_features, n_targets)
        and intercept (n_targets,; zeros if None), as new arrays in
        ``dtype`` -- never views of an algorithm's state, which may change
        later (``partial_fit``)."""
        if intercept is None:
            intercept = np.zeros(coef.shape[1])
        coef = np.array(coef.T, dtype=dtype, order="C")
        intercept = np.array(intercept, dtype=dtype)
        if y_ndim == 1:
            self.coef_ = coef[0]
            self.intercept_ = intercept[0] if self.fit_intercept else 0.0
        else:
            self.coef_ = coef
            self.intercept_ = intercept if self.fit_intercept else 0.0

    def predict(self, X: MatrixLike) -> ArrayResult:
        """Predict with the linear model, ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, in X's float dtype promoted with ``intercept_``'s:
            float32 X and a float32 fit give float32.  A dask X gives a lazy
            dask array, an array-API X an array of its namespace.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict")
        outputs = None if self.coef_.ndim == 1 else self.coef_.shape[0]
        # coef_ in X's dtype; intercept_ as fitted, so a float64 model
        # predicts float32 X in float64, as scikit-learn's linear models.
        linear = partial(_linear, intercept=self.intercept_)
        return backend_for(X).apply(self, X, linear, (self.coef_,), n_outputs=outputs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _linear(X, coef, intercept):
    """``X coefᵀ + intercept`` in X's namespace (sparse X: a dense result)."""
    return (X @ coef if coef.ndim == 1 else X @ coef.T) + intercept
