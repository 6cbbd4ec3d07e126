"""PinvRegressor: least squares through the Moore-Penrose pseudo-inverse."""

from __future__ import annotations

from numbers import Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from .._algorithms.least_squares import solve_statistics
from .._backends import backend_for, stream
from ..components.lstsq import GRAM_TOL, LstsqSolver
from ..plugins import parameter_constraint
from ..utils._typing import MatrixLike, fit_context
from ._base import LinearRegressorMixin
from ._deferred import DeferredAttributes

__all__ = ["PinvRegressor"]

# The fitted arrays, moved to the namespace and device of an array-API X.
_ARRAY_ATTRIBUTES = ("coef_", "intercept_", "singular_values_")

# What partial_fit's solve sets, when first read.
_SOLVED = (
    "coef_",
    "intercept_",
    "rank_",
    "singular_values_",
    "solver_used_",
    "solver_",
)


class PinvRegressor(DeferredAttributes, LinearRegressorMixin, BaseEstimator):
    r"""Minimum-norm least squares, ``coef = X⁺ y``, with optional ridge.

    Solves

    .. math::

        \min_{\beta, b} \; \sum_i w_i (y_i - x_i^\top \beta - b)^2
        + \alpha \|\beta\|_2^2

    and, among the minimisers, returns the one with the smallest
    :math:`\|\beta\|_2` -- the Moore--Penrose solution :math:`\beta = A^+ y`
    of the centred, weighted problem.  It is exact for square invertible X
    (it solves linear systems), the ordinary least-squares fit for tall X,
    and the minimum-norm fit for wide or rank-deficient X.  The intercept is
    fitted by weighted centring and stays out of the norm, as in
    :class:`sklearn.linear_model.LinearRegression`.  With ``alpha > 0`` it is
    ridge regression, equal to :class:`sklearn.linear_model.Ridge`.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit an intercept (by centring X and y with their weighted
        means).  If False, the data are used as they are.

    alpha : float, default=0.0
        Ridge (Tikhonov) strength, ``alpha >= 0``: singular values are filtered
        by ``σ / (σ² + alpha)`` instead of ``1 / σ``.

    rtol : float, default=None
        Relative cut-off in ``[0, 1]``: singular values ``σ <= rtol * σ_max`` of
        the centred, weighted X count as zero.  None means the larger of
        ``max(n_samples, n_features) * eps(float64)`` -- the rounding of the
        solvers, which all compute in float64 (numpy's ``lstsq`` rule) --
        and ``eps`` of X's dtype -- the rounding of the data themselves
        (LAPACK's default, kept by :func:`scipy.linalg.lstsq`).  So
        float64 X gets :func:`numpy.linalg.lstsq`'s cut-off, and float32 X
        ``eps(float32) ≈ 1.2e-7``, not the row count times it.
        ``LinearRegression`` cuts at its ``tol``, 1e-6 (scikit-learn 1.9):
        ``rtol=1e-6`` gives its answer.  The iterative ``"lsqr"`` solver
        uses ``1/rtol`` as its condition limit instead.

    solver : str or object, default="auto"
        How to solve the least-squares problem; a registered name (see
        ``skla.names("lstsq_solver")``) or an object implementing
        :class:`~skla.components.lstsq.LstsqSolver`:

        - ``"auto"``: the normal equations when the conditioning they measure
          allows 1e-9 accuracy, otherwise ``"qr"`` (``"lsqr"`` for sparse X
          too large to factor).
        - ``"svd"``: LAPACK SVD of the centred copy of X in float64 (dense
          only); the reference, at a cost: 3× X of extra memory (the copy, U
          and LAPACK's workspace) for float64 X, twice that for float32 X,
          against 0.02× for ``"auto"`` (200000×100).
        - ``"qr"``: block-wise Householder QR, then the SVD of the small
          triangular factor; backward stable and without a copy of tall X.
        - ``"gram"``: Cholesky (or eigenvalues) of XᵀX; fastest for
          n_samples >> n_features but accurate only to ~eps·cond(X)² (it warns
          when that is worse than 1e-9).
        - ``"lsqr"``: iterative, for large sparse X.

        Every solver sees X and y scaled by powers of two when their entries
        lie beyond 1e±60 (exact: the answer is scaled back), so data near
        1e±160 give the answer ``numpy.linalg.lstsq`` gives on rescaled data.

    copy_X : bool, default=True
        If False, the ``"svd"`` solver (and ``"qr"`` on X with more features
        than samples) may centre X in place to save a copy; X is then
        overwritten.  The other paths never copy or modify X.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in X's dtype.

    intercept_ : float or ndarray of shape (n_targets,)
        Intercept; 0.0 when ``fit_intercept=False``.

    rank_ : int or None
        Number of singular values of the centred, weighted X kept by the
        ``rtol`` cut.  None for solvers that compute no spectrum (``"lsqr"``).

    singular_values_ : ndarray of shape (min(n_samples, n_features),) or None
        Singular values of the centred, weighted X, in decreasing order (from
        ``"gram"``: square roots of the Gram eigenvalues, accurate only to
        about ``sqrt(eps) * σ_max``).  The values past ``rank_`` -- below the
        cut-off, or lost in the Gram matrix's rounding -- are reported as 0:
        their computed values are rounding noise, which differs between
        solvers and routes.  None for ``"lsqr"``.  Where the Gram route's
        Cholesky test needed no eigenvalues, they are computed when this
        attribute is first read (or the model pickled): 0.04 s at 1000
        features, a tenth of the fit.

    solver_ : object or None
        The solver component used (a new instance or a clone of ``solver``);
        None where the fit solved from row statistics instead: after
        :meth:`partial_fit`, and on dask and array-API input
        (``solver_used_`` then says which, e.g. ``"gram (dask)"``).

    solver_used_ : str
        The method that produced the solution (``"auto"`` picks one;
        ``"qr (streamed)"`` after :meth:`partial_fit`).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.LinearRegression : Least squares through LAPACK's
        ``gelsd``, with a copy of X.
    sklearn.linear_model.Ridge : Ridge regression, equal to
        ``PinvRegressor(alpha=alpha)``.
    numpy.linalg.pinv : The pseudo-inverse itself.

    Examples
    --------
    The linear system ``2x + 3y = 8, x + y = 3``:

    >>> import numpy as np
    >>> from skla import PinvRegressor
    >>> A = np.array([[2.0, 3.0], [1.0, 1.0]])
    >>> reg = PinvRegressor(fit_intercept=False).fit(A, [8.0, 3.0])
    >>> reg.coef_
    array([1., 2.])

    A rank-deficient design gets the minimum-norm coefficients:

    >>> X = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    >>> reg = PinvRegressor().fit(X, [1.0, 3.0, 5.0])
    >>> reg.coef_, reg.intercept_, reg.rank_
    (array([1., 1.]), np.float64(-1.0), 1)
    """

    _parameter_constraints: ClassVar[dict] = {
        "fit_intercept": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "rtol": [Interval(Real, 0, 1, closed="both"), None],
        "solver": parameter_constraint("lstsq_solver"),
        "copy_X": ["boolean"],
    }

    def __init__(
        self,
        *,
        fit_intercept: bool = True,
        alpha: float = 0.0,
        rtol: float | None = None,
        solver: str | LstsqSolver = "auto",
        copy_X: bool = True,
    ) -> None:
        self.fit_intercept = fit_intercept
        self.alpha = alpha
        self.rtol = rtol
        self.solver = solver
        self.copy_X = copy_X

    @fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: MatrixLike, y: MatrixLike, sample_weight: MatrixLike | None = None
    ) -> PinvRegressor:
        """Fit the minimum-norm least-squares (or ridge) coefficients.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; CSR/CSC sparse input is never densified by the
            ``"auto"``, ``"gram"``, ``"qr"`` (tall X) and ``"lsqr"`` solvers.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 0 is the same as dropping the
            row and an integer weight k the same as repeating it k times.
            As in ``Ridge``, the objective is ``Σ wᵢ rᵢ² + alpha ‖β‖²``: with
            ``alpha > 0``, multiplying every weight by 3 weakens the ridge.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        stream.forget(self)  # partial_fit starts over
        backend = backend_for(X)
        data = backend.validate(self, X, y, sample_weight)
        # Data near 1e±160 are solved scaled by powers of two (exact).  A
        # fit that may centre X in place (copy_X=False) is not retried.
        errors = (np.linalg.LinAlgError, FloatingPointError) if self.copy_X else ()

        def fit(x_scale):
            return backend.least_squares(
                data,
                self.solver,
                alpha=self.alpha,
                rtol=self.rtol,
                centre=self.fit_intercept,
                x_scale=x_scale,
                copy_X=self.copy_X,
            )

        self._set_fit(backend.at_scale(fit, data, errors), data.y_ndim, data.dtype)
        backend.publish(self, _ARRAY_ATTRIBUTES)
        return self

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: MatrixLike, y: MatrixLike, sample_weight: MatrixLike | None = None
    ) -> PinvRegressor:
        """Add a chunk of rows: the fit is then exactly that of all rows seen.

        The rows enter through mergeable statistics (their weighted means
        and the R factor of the centred, weighted ``[X, y]``; see
        :mod:`skla._algorithms.statistics`): after every call ``coef_``,
        ``intercept_``, ``rank_`` and ``singular_values_`` -- solved from
        the statistics when first read, so that a stream pays for the solves
        it reads (``solver="gram"`` solves at once: its accuracy warning
        belongs to the call) -- are those of
        :meth:`fit` with ``solver="qr"`` on all the rows so far, to
        rounding -- QR's accuracy at any condition number.  The accuracy
        test by which ``"auto"`` picks the normal equations cannot be taken
        back once rows are gone, so the stream keeps R whatever ``solver``
        says.  ``"auto"`` forms a chunk's R from its scatter matrix (by
        Cholesky, about 3× cheaper than QR) where a condition estimate shows
        the chunk's normal equations accurate to ``GRAM_TOL`` -- the
        accuracy of ``fit``'s own Gram route -- and by QR otherwise.
        ``solver="gram"`` keeps the scatter matrix
        instead (four times cheaper per chunk), equals ``fit(solver="gram")``
        and warns as it does when the condition number costs accuracy.  The
        state kept is ``(n_features + n_targets)²`` numbers, however many
        rows pass; the chunks are never stored.  A call to :meth:`fit` starts over.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of rows (CSR/CSC chunks are read in dense row blocks).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets; the same number of targets in every chunk.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, as in :meth:`fit`.

        Returns
        -------
        self : object
            The estimator, fitted to every row seen.

        Examples
        --------
        >>> import numpy as np
        >>> from skla import PinvRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((1000, 3))
        >>> y = X @ [1.0, -2.0, 0.5] + 3.0 + rng.standard_normal(1000)
        >>> streamed = PinvRegressor()
        >>> for rows in np.array_split(np.arange(1000), 4):
        ...     streamed = streamed.partial_fit(X[rows], y[rows])
        >>> np.allclose(streamed.coef_, PinvRegressor().fit(X, y).coef_)
        True
        """
        backend = backend_for(X)
        first = stream.starts(self)
        data = backend.validate(
            self, X, y, sample_weight, reset=first, allow_all_zero_weights=not first
        )
        # solver="gram" keeps the scatter matrix (4× cheaper, and as
        # accurate as fit's "gram"); any other solver the R factor, which
        # "auto" takes from the chunk's scatter matrix where that is as
        # accurate as fit's "auto" (about 3× cheaper than TSQR).
        auto = isinstance(self.solver, str) and self.solver == "auto"
        chunk = backend.row_statistics(
            data,
            centre=self.fit_intercept,
            gram=self.solver == "gram",
            cholesky_tol=GRAM_TOL if auto else None,
        )
        statistics = stream.fold(self, backend, chunk, first=first)
        how = (self.solver, float(self.alpha), self.rtol)
        shape = (data.y_ndim, data.dtype)
        if statistics.S is not None:
            # solver="gram" solves now: its accuracy warning is this call's.
            self._solve_stream(backend, statistics, how, shape)
        else:
            # Solved when the coefficients are read: a stream pays for the
            # solves it reads, not one per chunk.
            self._defer(_SOLVED, "_solve_stream", backend, statistics, how, shape)
            backend.publish(self, ())  # the input's columns, now
        stream.keep(self, backend, statistics)
        return self

    def _solve_stream(self, backend, statistics, how, shape):
        """The solve of :meth:`partial_fit` on the stream's statistics."""
        solver, alpha, rtol = how
        fit = solve_statistics(
            statistics,
            solver,
            alpha=alpha,
            rtol=rtol,
            dtype=shape[1],
            how="streamed",
            compute=backend.compute_dtype,
        )
        self._set_fit(fit, *shape)
        backend.publish(self, _ARRAY_ATTRIBUTES)

    def _set_fit(self, fit, y_ndim, dtype):
        """The fitted attributes of an :class:`~skla._algorithms.least_squares.
        LstsqFit`, in X's dtype."""
        self._cancel_deferred()
        self._set_coef(fit.coef, y_ndim, fit.intercept, dtype=dtype)
        self.rank_ = fit.rank
        s = fit.singular_values
        if callable(s):
            # The solver did not need them: computed when first read.
            self._defer(("singular_values_",), "_spectrum", s, dtype)
        else:
            self.singular_values_ = None if s is None else s.astype(dtype)
        self.solver_used_ = fit.solver_used
        self.solver_ = fit.solver

    def _spectrum(self, spectrum, dtype):
        """The deferred ``singular_values_`` (see :meth:`_set_fit`)."""
        self.singular_values_ = np.asarray(spectrum()).astype(dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True  # solvers auto, gram, qr, svd
        return tags
