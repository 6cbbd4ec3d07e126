"""GDRegressor: full-batch (proximal, accelerated) gradient descent."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval

from .._algorithms.fista import proximal_gradient
from .._algorithms.objectives import coefficients, regression_objective
from .._algorithms.scaling import power_of_two_scale, retry_at_full_scale
from .._algorithms.statistics import RowStatistics
from .._array_api import namespace_of, row_statistics, unsupported
from .._dask import is_dask_collection
from ..components.penalties import rescaled
from ..exceptions import DivergenceError
from ..plugins import parameter_constraint, resolve
from ._base import LinearRegressorMixin

__all__ = ["GDRegressor"]


class GDRegressor(LinearRegressorMixin, BaseEstimator):
    r"""Linear regression by full-batch gradient descent, the seed's algorithm.

    Minimises

    .. math::

        \frac{1}{\sum_i w_i}\sum_i w_i\, \ell(y_i, x_i^\top\beta + b)
        + \alpha R(\beta)

    -- :class:`sklearn.linear_model.Lasso`'s and ``ElasticNet``'s with
    the squared loss, and :class:`sklearn.linear_model.SGDRegressor`'s for
    unit weights (SGDRegressor divides by the number of rows, not by the
    weights' sum: weights of 3 are a three times weaker penalty there and
    the same problem here) -- by
    accelerated proximal gradient descent (FISTA with adaptive restart).  The
    penalty's proximal step gives exact zeros for ``l1`` and ``elasticnet``.
    With ``loss="squared_error"`` the iterations run on the d×d Gram matrix of
    the centred data, so each costs O(d²) whatever the number of samples, and
    the intercept is exact.

    **Stopping rule.** The seed iterates ``while norm(grad) > eps``.  Here the
    gradient is the *gradient mapping* ``(z - prox(z - η∇f(z))) / η`` (the plain
    gradient when there is no penalty), and the loop stops when its norm falls
    to ``tol`` times its norm at ``coef = 0`` (where a cold fit starts) -- the
    seed's eps, made relative so that it does not depend on the scale of X
    and y; a warm start that is already optimal stops at once.

    Parameters
    ----------
    loss : str or object, default="squared_error"
        A registered loss (``"squared_error"``, ``"huber"``, ``"rmse"``,
        ``"epsilon_insensitive"``, ``"squared_epsilon_insensitive"``) or an
        object implementing :class:`~skla.components.losses.Loss`.

    penalty : str, object or None, default=None
        ``"l2"``, ``"l1"``, ``"elasticnet"``, an object implementing
        :class:`~skla.components.penalties.Penalty`, or None.

    alpha : float, default=0.0001
        Penalty strength, >= 0 (ignored without a penalty).

    l1_ratio : float, default=0.15
        Elastic-net mixing in [0, 1], given to penalties that take it.

    epsilon : float, default=0.1
        Huber and epsilon-insensitive threshold, >= 0, given to losses that
        take it.

    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.

    learning_rate : str or object, default="auto"
        Step-size rule: ``"auto"`` (1/L of the diagonally preconditioned
        problem, with a backtracking safeguard: no tuning), ``"armijo"``
        (backtracking from ``eta0``), ``"constant"`` (the seed's fixed
        ``eta0``), or an object implementing
        :class:`~skla.components.step_sizes.StepSize`.  (The name is
        scikit-learn's, but here it is a *step-size rule* of full-batch
        gradient descent -- a ``step_size`` component -- not the per-update
        *schedule* that ``SGDMiniBatchRegressor``'s ``learning_rate`` is.)

    eta0 : float, default=0.01
        Step size for ``"constant"``; first trial step for ``"armijo"``.

    max_iter : int, default=1000
        Maximum number of iterations, >= 1.

    tol : float, default=1e-6
        Stop when the gradient-mapping norm falls to ``tol`` times its value
        at ``coef = 0``, >= 0.

    warm_start : bool, default=False
        Start from the previous solution.

    verbose : int, default=0
        Print the objective and gradient norm at each iteration if > 0.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        Iterations run.
    loss_curve_ : list of float
        The objective (mean loss + alpha · penalty) after each iteration.
    loss_, penalty_, learning_rate_ : object
        The resolved components (``penalty_`` is None without a penalty).
    step_size_ : float
        The last step size used.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    PinvRegressor : The same least-squares solution in closed form.
    sklearn.linear_model.SGDRegressor : Stochastic gradient descent.
    sklearn.linear_model.Lasso : Coordinate descent for ``penalty="l1"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skla import GDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = X @ [1.0, 0.0, -2.0] + 0.5
    >>> reg = GDRegressor(tol=1e-10).fit(X, y)
    >>> reg.coef_.round(6), round(float(reg.intercept_), 6)
    (array([ 1.,  0., -2.]), 0.5)
    >>> lasso = GDRegressor(penalty="l1", alpha=0.1, tol=1e-10).fit(X, y)
    >>> lasso.coef_.round(3)  # an exact zero, as Lasso(alpha=0.1) finds
    array([ 0.911,  0.   , -1.903])
    """

    _parameter_constraints: ClassVar[dict] = {
        "loss": parameter_constraint("loss"),
        "penalty": [*parameter_constraint("penalty"), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "learning_rate": parameter_constraint("step_size"),
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        loss="squared_error",
        penalty=None,
        alpha=0.0001,
        l1_ratio=0.15,
        epsilon=0.1,
        fit_intercept=True,
        learning_rate="auto",
        eta0=0.01,
        max_iter=1000,
        tol=1e-6,
        warm_start=False,
        verbose=0,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.epsilon = epsilon
        self.fit_intercept = fit_intercept
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the linear model by gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (CSR/CSC sparse X is never densified).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.  The loss is their weighted mean,
            ``Σ wᵢ ℓᵢ / Σ wᵢ``, as in ``Lasso``: multiplying every weight by
            3 changes nothing, and an integer weight k is the same as
            repeating the row k times.

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
        self.loss_, self.penalty_ = self._resolve_loss_and_penalty()
        self.learning_rate_ = resolve(
            "step_size", self.learning_rate, param="learning_rate"
        )
        errors = (np.linalg.LinAlgError, DivergenceError)

        def fit(x_scale):
            return self._fit_scaled(X, Y, sample_weight, y_ndim, x_scale)

        return retry_at_full_scale(fit, X, power_of_two_scale(X), errors)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Add a chunk of rows: the fit is then that of all rows seen.

        For ``loss="squared_error"`` (any penalty) the objective depends on
        the rows only through their weighted means and centred Gram matrix,
        kept as the R factor of the centred, weighted ``[X, y]`` (see
        :mod:`skla._algorithms.statistics`; O(d²) numbers however many rows
        pass).  Each call folds the chunk in and runs the solver on those
        statistics, warm-started from the previous coefficients, so the
        result equals :meth:`fit` on all the rows to ``tol`` -- an exact
        streaming Lasso or elastic net.  Other losses need the rows
        themselves at every iteration: use
        :meth:`SGDMiniBatchRegressor.partial_fit`.  A call to :meth:`fit`
        starts over.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of rows.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets; the same number in every chunk.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, as in :meth:`fit`.

        Returns
        -------
        self : object
            The estimator, fitted to every row seen.

        Examples
        --------
        >>> import numpy as np
        >>> from skla import GDRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((1000, 3))
        >>> y = X @ [1.0, 0.0, -2.0] + rng.standard_normal(1000)
        >>> lasso = GDRegressor(penalty="l1", alpha=0.1, tol=1e-10)
        >>> for rows in np.array_split(np.arange(1000), 4):
        ...     lasso = lasso.partial_fit(X[rows], y[rows])
        >>> full = GDRegressor(penalty="l1", alpha=0.1, tol=1e-10).fit(X, y)
        >>> bool(np.allclose(lasso.coef_, full.coef_, atol=1e-8)), lasso.coef_[1]
        (True, np.float64(0.0))
        """
        ns = namespace_of(X)
        if ns is not None:  # fit has a route; the stream's chunks do not yet
            raise unsupported("GDRegressor.partial_fit", ns)
        first = self._starts_stream()
        loss, penalty = self._resolve_loss_and_penalty()
        if not getattr(loss, "quadratic", False):
            raise ValueError(
                "GDRegressor.partial_fit needs loss='squared_error', whose "
                "objective small statistics of the rows determine; got "
                f"loss={self.loss!r}. For other losses, stream the rows through "
                "SGDMiniBatchRegressor.partial_fit."
            )
        X, Y, sample_weight, y_ndim = self._validate_fit_data(
            X, y, sample_weight, reset=first, allow_all_zero_weights=not first
        )
        # The scatter matrix, as fit's Gram objective (R would cost 4×).
        statistics = RowStatistics.of(
            X, Y, sample_weight, centre=self.fit_intercept, ranges=True, gram=True
        )
        coef = None
        if not first:
            statistics = self._merged_statistics(statistics)
            coef = self._coef_matrix(self.coef_, X.shape[1], Y.shape[1])
        self.loss_, self.penalty_ = loss, penalty
        self._solve_statistics(statistics, coef, y_ndim, X.dtype)
        self._statistics = statistics
        return self

    def _solve_statistics(self, statistics, coef, y_ndim, dtype):
        """Solve the squared-loss objective of row statistics from ``coef``
        (zeros if None) and set the fitted attributes."""
        self.learning_rate_ = resolve(
            "step_size", self.learning_rate, param="learning_rate"
        )
        objective = statistics.quadratic_objective(dtype)
        alpha = float(self.alpha)
        result = self._solve(
            objective, self.penalty_, alpha, coef, statistics.n_targets
        )
        intercept = None
        if statistics.centred:
            d = statistics.n_features
            intercept = statistics.mean[d:] - statistics.mean[:d] @ result.coef
        self._set_coef(result.coef, None, y_ndim, intercept, dtype=dtype)

    def _fit_dask(self, X, y, sample_weight):
        """fit on dask arrays.  The squared loss: the scatter matrix reduced
        over the chunks once, then the solver on the d×d statistics locally.
        Other losses: the chunks persisted on the workers, one map-reduce of
        value and gradient per point (see :mod:`skla._dask_loss`)."""
        from .._dask import block_statistics, row_statistics
        from .._dask_loss import ChunkedLossObjective, chunked_form, persist_blocks

        loss, penalty = self._resolve_loss_and_penalty()
        quadratic = getattr(loss, "quadratic", False)
        if not quadratic:
            chunked_form(loss, self.loss)  # refused before any pass
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        options = {"centre": self.fit_intercept, "gram": True, "ranges": True}
        if quadratic:
            statistics = row_statistics(X, y, sample_weight, **options)
        else:  # the chunks stay on the workers: one read of X
            blocks = persist_blocks(X, y, sample_weight)
            statistics = block_statistics(blocks, **options)
        d, k = X.shape[1], statistics.n_targets
        coef = intercept = None
        if self.warm_start and getattr(self, "n_features_in_", None) == d:
            coef = self._coef_matrix(self.coef_, d, k)
            intercept = self.intercept_
        # Attributes change only once the statistics are in.
        self.loss_, self.penalty_ = loss, penalty
        if quadratic:
            self._solve_statistics(statistics, coef, np.ndim(y), dtype)
        else:
            objective = ChunkedLossObjective(
                blocks,
                loss,
                self.loss,
                statistics,
                self.fit_intercept,
                dtype,
            )
            theta = self._solve_chunked(objective, statistics, coef, intercept)
            beta, offset = theta[:d], None
            if self.fit_intercept:  # θ's last row: the offset of centred data
                offset = theta[d] - statistics.mean[:d] @ beta
            self._set_coef(beta, None, np.ndim(y), offset, dtype=dtype)
        self._fitted_on_dask(X)
        return self

    def _fit_namespace(self, ns, X, y, sample_weight):
        """fit on arrays of an array-API namespace (squared loss): the
        scatter matrix formed there, on X's device, the solver on the d×d
        statistics in numpy (see :mod:`skla._array_api`)."""
        loss, penalty = self._resolve_loss_and_penalty()
        if not getattr(loss, "quadratic", False):
            raise unsupported(f"GDRegressor(loss={self.loss!r})", ns)
        X, Y, sample_weight, y_ndim, dtype = self._validate_namespace_data(
            ns, X, y, sample_weight
        )
        statistics = row_statistics(
            ns, X, Y, sample_weight, centre=self.fit_intercept, gram=True, ranges=True
        )
        coef = None
        if self.warm_start and hasattr(self, "coef_"):
            coef = self._coef_matrix(ns.to_numpy(self.coef_), X.shape[1], Y.shape[1])
        self.loss_, self.penalty_ = loss, penalty
        self._solve_statistics(statistics, coef, y_ndim, dtype)
        ns.move_attributes(self, ("coef_", "intercept_"))
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True  # loss="squared_error", any penalty
        return tags

    def _solve_chunked(self, objective, statistics, coef, intercept):
        """Solve a :class:`~skla._dask_loss.ChunkedLossObjective` from a warm
        ``coef``/``intercept`` (zeros if None): θ stacks β over the offset."""
        self.learning_rate_ = resolve(
            "step_size", self.learning_rate, param="learning_rate"
        )
        d, k = statistics.n_features, statistics.n_targets
        theta = np.zeros((d + self.fit_intercept, k))
        if coef is not None:
            theta[:d] = coef
            if self.fit_intercept:  # the offset of centred data: b + μβ
                theta[d] = intercept + statistics.mean[:d] @ coef
        alpha = float(self.alpha)
        return self._solve(objective, self.penalty_, alpha, theta, k).coef

    def _solve(self, objective, penalty, alpha, theta0, n_targets):
        """Run the solver on ``objective`` from ``theta0`` (zeros if None);
        record ``n_iter_``, ``loss_curve_`` and ``step_size_``."""
        if theta0 is None:
            theta0 = np.zeros((objective.n_penalized, n_targets))
        result = proximal_gradient(
            objective,
            penalty,
            alpha,
            self.learning_rate_,
            smoothness=getattr(self.loss_, "smoothness", None),
            eta0=float(self.eta0),
            theta0=theta0,
            max_iter=self.max_iter,
            tol=float(self.tol),
            verbose=self.verbose,
            step_name=str(self.learning_rate),
        )
        self.n_iter_ = result.n_iter
        self.loss_curve_ = result.loss_curve
        self.step_size_ = result.step
        return result

    def _fit_scaled(self, X, Y, sample_weight, y_ndim, x_scale):
        """Fit on ``cx·X`` (exact: the predictions are unchanged, β = cx·β').

        The penalty's strength is rescaled to match; a penalty of unknown
        degree is left unscaled (cx = 1).
        """
        penalty, alpha, cx = rescaled(self.penalty_, float(self.alpha), x_scale)
        if cx != 1.0:
            X = X * cx
        problem = self._least_squares_problem(X, Y, sample_weight)
        coef = intercept = None
        if self.warm_start and hasattr(self, "coef_"):
            d, k = problem.shape[1], problem.n_targets
            coef = self._coef_matrix(self.coef_, d, k) / cx  # the scaled problem's
            intercept = self.intercept_
        objective, theta0 = regression_objective(
            problem,
            self.loss_,
            fit_intercept=self.fit_intercept,
            coef=coef,
            intercept=intercept,
        )
        result = self._solve(objective, penalty, alpha, theta0, problem.n_targets)
        beta, intercept = coefficients(result.coef, problem, objective)
        with np.errstate(over="ignore", under="ignore"):
            self._set_coef(beta * cx, problem, y_ndim, intercept)
        return self
