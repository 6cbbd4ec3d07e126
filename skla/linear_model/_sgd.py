"""SGDMiniBatchRegressor: scikit-learn's SGDRegressor with mini-batches."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from .._algorithms.convergence import refuse_oscillation
from .._backends import backend_for
from ..components.losses import Loss
from ..components.penalties import Penalty
from ..components.schedules import Schedule
from ..plugins import parameter_constraint
from ..utils._typing import MatrixLike, fit_context
from ._base import LinearRegressorMixin
from ._sgd_engine import chunk_engine, finish, fit_in_memory, record_pass

__all__ = ["SGDMiniBatchRegressor"]


class SGDMiniBatchRegressor(LinearRegressorMixin, BaseEstimator):
    r"""Linear regression by stochastic gradient descent on mini-batches.

    A drop-in replacement for :class:`sklearn.linear_model.SGDRegressor` --
    the same parameters with the same meanings, plus ``batch_size`` -- that
    needs no feature scaling and no tuning: at its defaults it reaches the
    optimum on raw data at every batch size (see ``learning_rate="auto"``).
    It minimises

    .. math::

        \frac{1}{n}\sum_i w_i\, \ell(y_i, x_i^\top\beta + b) + \alpha R(\beta)

    by averaging the gradient over each mini-batch of ``batch_size`` shuffled
    samples.  Each step is a proximal step, so ``penalty="l1"`` and
    ``"elasticnet"`` give exact zeros.  Larger batches make each epoch
    cheaper (a few BLAS calls per batch instead of Python work per sample)
    and each gradient less noisy; ``batch_size=1`` is plain SGD.

    ``partial_fit`` runs one epoch over the data it is given and continues
    the learning-rate schedule across calls (``t_``), so it trains on data
    that do not fit in memory, chunk by chunk from a memmap or a generator.

    Parameters
    ----------
    loss : str or object, default="squared_error"
        ``"squared_error"`` (½r²), ``"huber"``, ``"epsilon_insensitive"``,
        ``"squared_epsilon_insensitive"``, ``"rmse"``, another registered loss,
        or an object implementing :class:`~skla.components.losses.Loss`.
    penalty : str, object or None, default="l2"
        ``"l2"``, ``"l1"``, ``"elasticnet"``, a registered penalty, an object
        implementing :class:`~skla.components.penalties.Penalty`, or None.
    alpha : float, default=0.0001
        Penalty strength, >= 0; also sets the ``"optimal"`` schedule.
    l1_ratio : float, default=0.15
        Elastic-net mixing in [0, 1], given to penalties that take it.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    batch_size : int, default=32
        Samples per update, >= 1; clipped to the number of samples.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the data) of ``fit``.
    tol : float or None, default=1e-3
        Stop when the epoch's objective (or, with ``early_stopping``, the
        validation R²) has not improved by ``tol`` for ``n_iter_no_change``
        epochs in a row; None never stops early (and skips the optimality
        check, see Notes).  With ``learning_rate="auto"`` the improvement is
        relative to the objective, and the run stops only if the full
        gradient confirms it has arrived.
    shuffle : bool, default=True
        Shuffle the samples at every epoch (see Notes).
    verbose : int, default=0
        Print the objective after every epoch if > 0.
    epsilon : float, default=0.1
        Threshold of the Huber and epsilon-insensitive losses, >= 0.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split.
    learning_rate : str or object, default="auto"
        ``"auto"`` (a step measured from the data, in centred and scaled
        coordinates; see Notes), ``"constant"`` (``eta0``), ``"invscaling"``
        (``eta0 / t**power_t``, SGDRegressor's default), ``"optimal"``
        (``1 / (alpha (t + t0))``), ``"adaptive"`` (``eta0``, divided by 5 at
        each plateau), another registered schedule, or an object implementing
        :class:`~skla.components.schedules.Schedule`.  ``t`` counts updates
        (mini-batches).  The scikit-learn names keep scikit-learn's meaning.
        (A *schedule* of per-update steps -- a ``schedule`` component --
        where ``GDRegressor``'s ``learning_rate`` is a step-size rule.)
    eta0 : float, default=0.01
        The initial learning rate, > 0 (not used by ``"auto"``).
    power_t : float, default=0.25
        The exponent of ``"invscaling"``, >= 0.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its R² stops
        improving, and keep the coefficients of the best epoch.
    validation_fraction : float, default=0.1
        The held-out fraction, in (0, 1).
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping (or, for ``"adaptive"``,
        before dividing the learning rate).
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    average : bool or int, default=False
        Polyak–Ruppert averaging: ``coef_`` and ``intercept_`` are a mean of
        the iterates, which cancels much of the gradient noise.  True averages
        the tail of the run -- the epochs after the largest power of two not
        above half the epochs done -- so that the starting transient, long
        with mini-batches, does not bias it (tail averaging).  An int ``k``
        keeps scikit-learn's meaning: the mean of every update once ``k``
        samples have been seen in total.  ``"auto"``, whose step is constant,
        always averages the tail (False is read as True).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients (averaged if ``average``).
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        Epochs run by ``fit``; epochs run in total by ``partial_fit``.
    t_ : int
        Number of updates done, plus one: the schedule's next ``t``.
    loss_curve_ : list of float
        The objective (mean loss + alpha · penalty) of each epoch, with each
        sample's loss taken before the update that used it.
    best_loss_ : float or None
        The smallest value of ``loss_curve_`` (None with ``early_stopping``).
    validation_scores_ : list of float or None
        The validation R² after each epoch (None without ``early_stopping``).
    best_validation_score_ : float or None
        The best validation R² (None without ``early_stopping``).
    loss_, penalty_, learning_rate_ : object
        The resolved components (``penalty_`` is None without a penalty).
    max_eta_ : float
        The cap on the step size (see Notes); inf for losses without a
        smoothness bound.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    GDRegressor : Full-batch gradient descent (exact convergence).
    PinvRegressor : The least-squares solution in closed form.
    sklearn.linear_model.SGDRegressor : Per-sample SGD.

    Notes
    -----
    **Shuffling.** Rows are shuffled in two levels: blocks of about 16 KiB of
    consecutive rows in random order, then every row within windows of about
    2 MiB.  Each mini-batch mixes rows from as many places in X as it has
    rows, while X is read at memory speed: a fully random gather costs a
    main-memory latency per row, more than the arithmetic of an epoch.  X is
    never copied (CSC input is converted to CSR once).

    **Sample weights** scale each sample's gradient, as in SGDRegressor:
    weight 2 acts like seeing a sample twice in expectation, not exactly.

    **learning_rate="auto"** (the default, and the one difference from
    SGDRegressor's defaults) works in centred, scaled coordinates -- each
    feature minus its mean, over its standard deviation, measured on the
    first window of rows; ``coef_`` is mapped back and the penalty applies
    in the features' units, so the objective is unchanged -- starts the
    intercept at the mean target and takes the constant step ``1 / L_B``,
    ``L_B`` the expected curvature of a batch of ``batch_size`` rows, with
    tail averaging (:class:`~skla.components.schedules.Auto`).  Losses
    without a curvature bound get a step scaled by the targets' spread,
    decaying as ``1 / sqrt(epoch)``.

    **Safeguards.** Each step is capped at ``max_eta_ = 1.5 / L``, L the
    curvature of a mini-batch's loss measured on the first window (where
    scikit-learn's SGDRegressor returns coefficients of 1e10 on unscaled
    data); a loss without a curvature bound is capped where an update would
    move the predictions by 1.5 times the targets' spread, and a run whose
    last steps were still capped raises a DivergenceError.  Unless ``tol``
    is None or ``early_stopping`` is set, a fit that stops checks the full
    gradient mapping (one pass over X): ``"auto"`` halves its step if far
    from the optimum, and any schedule ends with a ConvergenceWarning that
    says whether the steps were too large or too small.  A loss that turns
    non-finite or grows 1e8-fold raises
    :class:`~skla.exceptions.DivergenceError`, naming the step size: the
    estimator is never left with NaN coefficients, and a failed
    ``partial_fit`` leaves the model as it was.  The user guide
    (:doc:`/user_guide/sgd`) has the details and examples.

    Examples
    --------
    Raw, unscaled features -- sizes 1, 10 and 1000, offsets of 100 -- at the
    defaults:

    >>> import numpy as np
    >>> from skla import SGDMiniBatchRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 3))
    >>> y = X @ [1.0, 0.0, -2.0] + 0.5 + 0.01 * rng.standard_normal(2000)
    >>> raw = X * [1.0, 10.0, 1000.0] + 100
    >>> reg = SGDMiniBatchRegressor(batch_size=16, random_state=0).fit(raw, y)
    >>> (reg.coef_ * [1.0, 10.0, 1000.0]).round(2), round(reg.score(raw, y), 4)
    (array([ 1.,  0., -2.]), 1.0)

    Streaming: one ``partial_fit`` per chunk, the schedule carried in ``t_``.

    >>> stream = SGDMiniBatchRegressor(batch_size=16, random_state=0)
    >>> for epoch in range(5):
    ...     for chunk in np.array_split(np.arange(2000), 4):
    ...         stream = stream.partial_fit(X[chunk], y[chunk])
    >>> stream.coef_.round(2), stream.t_  # 5 passes of 2000 / 16 updates, + 1
    (array([ 1.,  0., -2.]), 641)
    """

    _parameter_constraints: ClassVar[dict] = {
        "loss": parameter_constraint("loss"),
        "penalty": [*parameter_constraint("penalty"), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, None, None, closed="neither"), None],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "learning_rate": parameter_constraint("schedule"),
        "eta0": [Interval(Real, 0, None, closed="neither")],
        # Negative: steps that grow (scikit-learn 1.9 warns, 1.10 refuses).
        "power_t": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="left"), "boolean"],
    }

    def __init__(
        self,
        *,
        loss: str | Loss = "squared_error",
        penalty: str | Penalty | None = "l2",
        alpha: float = 0.0001,
        l1_ratio: float = 0.15,
        fit_intercept: bool = True,
        batch_size: int = 32,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        shuffle: bool = True,
        verbose: int | bool = 0,
        epsilon: float = 0.1,
        random_state: int | np.random.RandomState | None = None,
        learning_rate: str | Schedule = "auto",
        eta0: float = 0.01,
        power_t: float = 0.25,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        warm_start: bool = False,
        average: bool | int = False,
    ) -> None:
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.average = average

    @fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: MatrixLike,
        y: MatrixLike,
        coef_init: MatrixLike | None = None,
        intercept_init: MatrixLike | float | None = None,
        sample_weight: MatrixLike | None = None,
    ) -> SGDMiniBatchRegressor:
        """Fit by running epochs of shuffled mini-batches.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse X is used in CSR form, never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        coef_init : array-like of shape (n_features,) or (n_targets, \
n_features), default=None
            Starting coefficients (zeros by default).
        intercept_init : float or array-like of shape (n_targets,), \
default=None
            Starting intercept.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each scales its sample's gradient, as in
            SGDRegressor: the objective is ``Σ wᵢ ℓᵢ / n + alpha R(β)``, so
            with a penalty, multiplying every weight by 3 weakens it.

        Returns
        -------
        self : SGDMiniBatchRegressor
            The fitted estimator.
        """
        backend = backend_for(X)
        data = backend.validate(self, X, y, sample_weight)
        backend.sgd_fit(self, data, coef_init=coef_init, intercept_init=intercept_init)
        backend.publish(self, ("coef_", "intercept_"))
        return self

    def _fit_rows(self, data, coef_init, intercept_init, backend):
        """fit on rows in memory: :func:`~._sgd_engine.fit_in_memory`."""
        return fit_in_memory(self, data, coef_init, intercept_init, backend)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: MatrixLike, y: MatrixLike, sample_weight: MatrixLike | None = None
    ) -> SGDMiniBatchRegressor:
        """One epoch of mini-batches over (X, y), continuing the schedule.

        The first call initialises the model; later calls continue from it
        with update numbers starting at ``t_``.  ``early_stopping``,
        ``max_iter`` and ``tol`` do not apply.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        self : SGDMiniBatchRegressor
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight)

    def _partial_fit(self, X, y, sample_weight, *, allow_all_zero_weights=None):
        """partial_fit's pass.  Chunks whose weights are all zero are refused
        on the first call only (as PinvRegressor and GDRegressor do), unless
        ``allow_all_zero_weights``: fit's epochs on dask, whose total weight
        is checked once, visit the chunks in any order."""
        first = not hasattr(self, "_sgd")
        allow = not first if allow_all_zero_weights is None else allow_all_zero_weights
        before = dict(vars(self))
        try:
            data = backend_for(X).local_rows(
                self,
                X,
                y,
                sample_weight,
                what="SGDMiniBatchRegressor.partial_fit",
                reset=first,
                allow_all_zero_weights=allow,
            )
            X = data.X.tocsr() if sp.issparse(data.X) else data.X  # row batches
            Y, sample_weight, y_ndim = data.Y, data.sample_weight, data.y_ndim
            engine, X, Y, sample_weight = chunk_engine(self, X, Y, sample_weight, first)
            # One generator across calls: each pass gets new shuffles (the
            # same shuffle every call would make SGD cycle), reproducibly.
            loss = engine.epoch(
                X, Y, sample_weight, rng=engine.rng if self.shuffle else None
            )
            refuse_oscillation(engine)  # as fit does: such steps never settle
        except Exception:
            # The engine ran on a copy; undo what validation and resolving the
            # components set, so that the model is exactly as it was.
            vars(self).clear()
            vars(self).update(before)
            raise
        record_pass(self, loss + engine.penalty_value(), first)
        finish(self, engine, y_ndim, engine.coef.dtype, None)
        return self
