"""GDRegressor: full-batch (proximal, accelerated) gradient descent."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from .._algorithms.fista import proximal_gradient
from .._algorithms.objectives import posed_on_statistics
from .._backends import backend_for, stream
from ..components.losses import Loss
from ..components.penalties import Penalty, rescaled
from ..components.step_sizes import StepSize
from ..exceptions import DivergenceError
from ..plugins import parameter_constraint, resolve
from ..utils._typing import MatrixLike, fit_context
from ._base import LinearRegressorMixin
from ._deferred import DeferredAttributes

__all__ = ["GDRegressor"]

# What partial_fit's solve sets, when first read.
_SOLVED = ("coef_", "intercept_", "n_iter_", "loss_curve_", "step_size_")


class GDRegressor(DeferredAttributes, LinearRegressorMixin, BaseEstimator):
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
        loss: str | Loss = "squared_error",
        penalty: str | Penalty | None = None,
        alpha: float = 0.0001,
        l1_ratio: float = 0.15,
        epsilon: float = 0.1,
        fit_intercept: bool = True,
        learning_rate: str | StepSize = "auto",
        eta0: float = 0.01,
        max_iter: int = 1000,
        tol: float = 1e-6,
        warm_start: bool = False,
        verbose: int | bool = 0,
    ) -> None:
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

    @fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: MatrixLike, y: MatrixLike, sample_weight: MatrixLike | None = None
    ) -> GDRegressor:
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
        stream.forget(self)  # partial_fit starts over
        backend = backend_for(X)
        data = backend.validate(self, X, y, sample_weight)
        loss, penalty = self._resolve_loss_and_penalty()
        step = resolve("step_size", self.learning_rate, param="learning_rate")
        warm = self._warm_start(backend, data)

        def fit(x_scale):
            # On cx·X the predictions are unchanged (β = cx·β'); the
            # penalty's strength is rescaled to match (cx = 1 for a penalty
            # of unknown degree).
            scaled, alpha, cx = rescaled(penalty, float(self.alpha), x_scale)
            posed = backend.regression_objective(
                data,
                loss,
                name=self.loss,
                fit_intercept=self.fit_intercept,
                x_scale=cx,
                warm=warm,
            )
            objective, theta0 = posed.objective, posed.theta0
            result = self._solve(objective, loss, scaled, alpha, step, theta0)
            coef, intercept = posed.coefficients(result.coef)
            with np.errstate(over="ignore", under="ignore"):
                return coef * cx, intercept, result

        errors = (np.linalg.LinAlgError, DivergenceError)
        coef, intercept, result = backend.at_scale(fit, data, errors)
        self.loss_, self.penalty_, self.learning_rate_ = loss, penalty, step
        self._cancel_deferred()
        self._set_result(result, coef, intercept, data.y_ndim, data.dtype)
        backend.publish(self, ("coef_", "intercept_"))
        return self

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: MatrixLike, y: MatrixLike, sample_weight: MatrixLike | None = None
    ) -> GDRegressor:
        """Add a chunk of rows: the fit is then that of all rows seen.

        For ``loss="squared_error"`` (any penalty) the objective depends on
        the rows only through their weighted means and centred Gram matrix,
        kept as the R factor of the centred, weighted ``[X, y]`` (see
        :mod:`skla._algorithms.statistics`; O(d²) numbers however many rows
        pass).  Each call folds the chunk in; the solver runs on those
        statistics when the coefficients (or ``n_iter_``, ``loss_curve_``,
        ``step_size_``) are first read -- by :meth:`predict`, say -- so a
        stream pays for the solves it reads, not one per chunk, and a
        divergence is reported there.  It is warm-started from the
        coefficients last read, and the result equals :meth:`fit` on all the
        rows to ``tol`` -- an exact streaming Lasso or elastic net.  Other
        losses need the rows themselves at every iteration: use
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
        backend = backend_for(X)
        first = stream.starts(self)
        loss, penalty = self._resolve_loss_and_penalty()
        if not getattr(loss, "quadratic", False):
            raise ValueError(
                "GDRegressor.partial_fit needs loss='squared_error', whose "
                "objective small statistics of the rows determine; got "
                f"loss={self.loss!r}. For other losses, stream the rows through "
                "SGDMiniBatchRegressor.partial_fit."
            )
        step = resolve("step_size", self.learning_rate, param="learning_rate")
        data = backend.validate(
            self, X, y, sample_weight, reset=first, allow_all_zero_weights=not first
        )
        # The scatter matrix, as fit's Gram objective (R would cost 4×).
        chunk = backend.row_statistics(
            data, centre=self.fit_intercept, ranges=True, gram=True
        )
        statistics = stream.fold(self, backend, chunk, first=first)
        warm = None  # the coefficients last read, if any: a warm start
        if not first and "coef_" in self.__dict__:
            d, k = statistics.n_features, statistics.n_targets
            warm = self._coef_matrix(backend.to_numpy(self.coef_), d, k)
        self.loss_, self.penalty_, self.learning_rate_ = loss, penalty, step
        shape = (data.y_ndim, data.dtype)
        # Solved when the coefficients are read: a stream of chunks pays for
        # the solves it reads, not one per chunk.
        # The parameters as they are now: a set_params before the read does
        # not change this call's fit (as it would not an eager one).
        how = (loss, penalty, step, float(self.alpha), self._settings())
        self._defer(_SOLVED, "_solve_stream", backend, statistics, how, shape, warm)
        backend.publish(self, ())  # the input's columns, now
        stream.keep(self, backend, statistics)
        return self

    def _solve_stream(self, backend, statistics, how, shape, warm):
        """The deferred solve of :meth:`partial_fit` on the statistics."""
        posed = posed_on_statistics(statistics, shape[1], warm)
        loss, penalty, step, alpha, settings = how
        result = self._solve(
            posed.objective, loss, penalty, alpha, step, posed.theta0, settings
        )
        coef, intercept = posed.coefficients(result.coef)
        self._set_result(result, coef, intercept, *shape)
        backend.publish(self, ("coef_", "intercept_"))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True  # loss="squared_error", any penalty
        return tags

    def _settings(self):
        """The solver's settings from the parameters."""
        return {
            "eta0": float(self.eta0),
            "max_iter": self.max_iter,
            "tol": float(self.tol),
            "verbose": self.verbose,
            "step_name": str(self.learning_rate),
        }

    def _solve(self, objective, loss, penalty, alpha, step, theta0, settings=None):
        """Run the solver on ``objective`` from ``theta0`` (with ``settings``,
        by default the parameters' now)."""
        settings = self._settings() if settings is None else settings
        return proximal_gradient(
            objective,
            penalty,
            alpha,
            step,
            smoothness=getattr(loss, "smoothness", None),
            theta0=theta0,
            **settings,
        )

    def _set_result(self, result, coef, intercept, y_ndim, dtype):
        """The fitted attributes of a solver run and its coefficients."""
        self.n_iter_ = result.n_iter
        self.loss_curve_ = result.loss_curve
        self.step_size_ = result.step
        self._set_coef(coef, y_ndim, intercept, dtype=dtype)
