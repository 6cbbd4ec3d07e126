"""PinvRegressor: least squares through the Moore-Penrose pseudo-inverse."""

from __future__ import annotations

import warnings
from numbers import Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval

from .._algorithms.lstsq import default_rtol, reported_singular_values
from .._algorithms.scaling import power_of_two_scale, retry_at_full_scale
from .._algorithms.statistics import RowStatistics, ScatterRangeError
from .._array_api import namespace_of, row_statistics, unsupported
from .._dask import is_dask_collection
from ..components.lstsq import GRAM_TOL, GramAccuracyWarning
from ..components.penalties import L2, rescaled
from ..plugins import parameter_constraint, resolve
from ._base import LinearRegressorMixin

__all__ = ["PinvRegressor"]

# The solvers with an array-API route (the others run on numpy only).
_NAMESPACE_SOLVERS = ("auto", "gram", "qr", "svd")


class PinvRegressor(LinearRegressorMixin, BaseEstimator):
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
        - ``"gram"``: eigendecomposition of XᵀX; fastest for
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
        solvers and routes.  None for ``"lsqr"``.

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
        self, *, fit_intercept=True, alpha=0.0, rtol=None, solver="auto", copy_X=True
    ):
        self.fit_intercept = fit_intercept
        self.alpha = alpha
        self.rtol = rtol
        self.solver = solver
        self.copy_X = copy_X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
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
        if is_dask_collection(X):
            return self._fit_dask(X, y, sample_weight)
        self.__dict__.pop("_statistics", None)  # partial_fit starts over
        ns = namespace_of(X)
        if ns is not None:
            return self._fit_namespace(ns, X, y, sample_weight)
        X, Y, sample_weight, y_ndim = self._validate_fit_data(X, y, sample_weight)
        self.solver_ = resolve("lstsq_solver", self.solver, param="solver")
        # Data near 1e±160 are solved scaled by powers of two (exact).  A
        # fit that may centre X in place (copy_X=False) is not retried.
        errors = (np.linalg.LinAlgError, FloatingPointError) if self.copy_X else ()

        def fit(x_scale):
            return self._fit_scaled(X, Y, sample_weight, y_ndim, x_scale)

        return retry_at_full_scale(fit, X, power_of_two_scale(X), errors)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Add a chunk of rows: the fit is then exactly that of all rows seen.

        The rows enter through mergeable statistics (their weighted means
        and the R factor of the centred, weighted ``[X, y]``; see
        :mod:`skla._algorithms.statistics`): after every call ``coef_``,
        ``intercept_``, ``rank_`` and ``singular_values_`` are those of
        :meth:`fit` with ``solver="qr"`` on all the rows so far, to
        rounding -- QR's accuracy at any condition number.  The accuracy
        test by which ``"auto"`` picks the normal equations cannot be taken
        back once rows are gone, so the stream keeps R whatever ``solver``
        says, except ``solver="gram"``: that keeps the scatter matrix
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
        ns = namespace_of(X)
        if ns is not None:  # fit has a route; the stream's chunks do not yet
            raise unsupported("PinvRegressor.partial_fit", ns)
        first = self._starts_stream()
        X, Y, sample_weight, y_ndim = self._validate_fit_data(
            X, y, sample_weight, reset=first, allow_all_zero_weights=not first
        )
        # solver="gram" keeps the scatter matrix (4× cheaper, and as
        # accurate as fit's "gram"); any other solver the R factor.
        chunk = RowStatistics.of(
            X, Y, sample_weight, centre=self.fit_intercept, gram=self.solver == "gram"
        )
        if not first:
            chunk = self._merged_statistics(chunk)
        self._set_from_statistics(chunk, y_ndim, X.dtype, "streamed")
        self._statistics = chunk
        return self

    def _set_from_statistics(
        self, statistics, y_ndim, dtype, how, compute_dtype=np.float64
    ):
        """Solve from row statistics (computed in ``compute_dtype``) and set
        the fitted attributes."""
        shape = (statistics.n_rows, statistics.n_features)
        rtol = self._rtol(shape, dtype, compute_dtype)
        coef, intercept, rank, s, error = statistics.solve(float(self.alpha), rtol)
        if statistics.S is not None and error > GRAM_TOL:
            warnings.warn(
                f"solver='gram' squares the condition number of X: the estimated "
                f"relative error of the coefficients is {error:.1e}. Use "
                "solver='auto' (the R factor) for an accurate answer.",
                GramAccuracyWarning,
                stacklevel=3,
            )
        expected = (statistics.n_features, statistics.n_targets)
        coef = self._check_solution(coef, expected)
        self._set_coef(coef, None, y_ndim, intercept, dtype=dtype)
        self.rank_ = rank
        self.singular_values_ = reported_singular_values(s, rank).astype(dtype)
        kept = "gram" if statistics.S is not None else "qr"
        self.solver_used_ = f"{kept} ({how})"
        self.solver_ = None

    def _fit_dask(self, X, y, sample_weight):
        """fit on dask arrays: the row statistics reduced over the chunks,
        routed as :meth:`_routed_statistics` says."""
        from .._dask import row_statistics

        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64

        def statistics_of(gram):
            return row_statistics(
                X,
                y,
                sample_weight,
                centre=self.fit_intercept,
                gram=gram,
                tolerate_range=self.solver == "auto",
            )

        statistics = self._routed_statistics(statistics_of, X.shape, dtype)
        # Attributes change only once the statistics are in.
        self._set_from_statistics(statistics, np.ndim(y), dtype, "dask")
        self._fitted_on_dask(X)
        return self

    def _fit_namespace(self, ns, X, y, sample_weight):
        """fit on arrays of an array-API namespace (torch, cupy...): the
        passes over X there, on X's device; the small solve in numpy (see
        :mod:`skla._array_api`), routed as :meth:`_routed_statistics` says
        (``"svd"`` takes the R factor, whose SVD is X's)."""
        if not (isinstance(self.solver, str) and self.solver in _NAMESPACE_SOLVERS):
            raise unsupported(f"PinvRegressor(solver={self.solver!r})", ns)
        X, Y, sample_weight, y_ndim, dtype = self._validate_namespace_data(
            ns, X, y, sample_weight
        )
        centre = self.fit_intercept

        def statistics_of(gram):
            return row_statistics(ns, X, Y, sample_weight, centre=centre, gram=gram)

        # A float32 scatter matrix (a device without float64) fails the test.
        compute = np.float64 if ns.has_float64 else np.float32
        statistics = self._routed_statistics(
            statistics_of, X.shape, dtype, gram_first=ns.has_float64
        )
        self._set_from_statistics(statistics, y_ndim, dtype, ns.name, compute)
        ns.move_attributes(self, ("coef_", "intercept_", "singular_values_"))
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True  # solvers auto, gram, qr, svd
        return tags

    def _routed_statistics(self, statistics_of, shape, dtype, *, gram_first=True):
        """The statistics of the rows by fit's routes (dask, array API).

        ``"gram"``: the scatter matrix.  ``"auto"``: the scatter matrix
        (half the flops of R, at BLAS-3 speed) when X has at least as many
        rows as columns, as fit, and ``gram_first``, kept if its accuracy
        test passes -- else the R factor, a second pass, as fit falls back
        to QR.  Any other solver: the R factor.  ``statistics_of(gram)``
        computes them; None (or a ``ScatterRangeError``) means the squares
        overflow the scatter matrix.
        """
        n, d = shape[0], shape[-1]  # X is validated in statistics_of
        if self.solver == "gram":
            return statistics_of(gram=True)
        if self.solver == "auto" and gram_first and n >= d:
            try:
                statistics = statistics_of(gram=True)
            except ScatterRangeError:
                statistics = None
            if statistics is not None and self._gram_is_accurate(statistics, dtype):
                return statistics
        return statistics_of(gram=False)

    def _gram_is_accurate(self, statistics, dtype):
        """``"auto"``'s test: the scatter matrix's estimated error of the
        coefficients is at most ``GRAM_TOL`` (data whose squares overflow fail)."""
        if not np.isfinite(statistics.S).all():
            return False
        shape = (statistics.n_rows, statistics.n_features)
        *_, error = statistics.solve(float(self.alpha), self._rtol(shape, dtype))
        return error <= GRAM_TOL

    def _rtol(self, shape, dtype, compute_dtype=np.float64):
        """``rtol``, or its default for a problem of ``shape`` (see
        :func:`~skla._algorithms.lstsq.default_rtol`)."""
        if self.rtol is not None:
            return self.rtol
        return default_rtol(*shape, dtype, compute_dtype)

    def _fit_scaled(self, X, Y, sample_weight, y_ndim, x_scale):
        """Fit on ``cx·X`` and ``cy·Y`` and scale the answer back (exact).

        The ridge becomes ``alpha·cx²`` on the scaled problem (with cx
        lowered if that would overflow: such a ridge dominates the data).
        """
        _, alpha, cx = rescaled(L2(), float(self.alpha), x_scale)
        cy = power_of_two_scale(Y, sample=False)  # Y is small: read it all
        if cx != 1.0:
            X = X * cx  # a copy, only for such extreme data
        if cy != 1.0:
            Y = Y * cy
        problem = self._least_squares_problem(
            X, Y, sample_weight, overwrite_X=not self.copy_X or cx != 1.0
        )
        rtol = self._rtol(X.shape, X.dtype)
        result = self.solver_.solve(problem, alpha=alpha, rtol=rtol)
        coef = self._check_solution(result.coef, (problem.shape[1], problem.n_targets))
        intercept = None
        if cx != 1.0 or cy != 1.0:
            if problem.X_offset is not None:
                intercept = (problem.Y_offset - problem.X_offset @ coef) / cy
            with np.errstate(over="ignore", under="ignore"):
                coef = coef * cx / cy
        self._set_coef(coef, problem, y_ndim, intercept=intercept)
        self.rank_ = result.rank
        self.singular_values_ = reported_singular_values(
            result.singular_values, result.rank, cx
        )
        if self.singular_values_ is not None:
            self.singular_values_ = self.singular_values_.astype(X.dtype)
        self.solver_used_ = result.solver
        return self

    def _check_solution(self, coef, expected):
        """Refuse a solution of the wrong shape (``expected``, (n_features,
        n_targets)) or with non-finite values."""
        coef = np.asarray(coef, dtype=np.float64)
        if coef.shape != expected:
            raise ValueError(
                f"solver={self.solver!r} returned coefficients of shape "
                f"{coef.shape}; expected (n_features, n_targets) = {expected}."
            )
        if not np.isfinite(coef).all():
            raise FloatingPointError(
                f"solver={self.solver!r} returned non-finite coefficients; X or y "
                "may be too large for the floating-point range. Rescale the data "
                "or use solver='qr'."
            )
        return coef
