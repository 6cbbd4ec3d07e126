"""SGDMiniBatchRegressor: scikit-learn's SGDRegressor with mini-batches."""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.model_selection import ShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._algorithms.convergence import OptimalityCheck, Rows, refuse_oscillation
from .._algorithms.epochs import run_epochs
from .._algorithms.minibatch import MiniBatchSGD
from .._algorithms.scaling import power_of_two_scale, retry_at_full_scale
from .._array_api import namespace_of, unsupported
from .._dask import is_dask_collection
from ..components.penalties import rescaled
from ..exceptions import DivergenceError
from ..plugins import parameter_constraint, resolve
from ._base import LinearRegressorMixin

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
    SGDRegressor's defaults).  On raw data one step size cannot suit every
    feature and the intercept: the step that is stable for the largest-scale
    direction starves the others, which is why SGDRegressor asks for
    standardised features.  ``"auto"`` works in centred, scaled coordinates
    (each feature minus its mean, over its standard deviation, measured on the
    first window of rows or on all rows when that window shows the data are
    not standardised; ``coef_`` is mapped back to the features' units, and the
    penalty applies there, so the objective is unchanged), starts the
    intercept at the mean target, and takes the constant step ``1 / L_B``,
    ``L_B`` the expected curvature of a batch of ``batch_size`` rows -- which
    grows with the batch size -- with tail averaging (see
    :class:`~skla.components.schedules.Auto`).  Losses without a curvature
    bound get a step scaled by the targets' spread, decaying as
    ``1 / sqrt(epoch)``.

    **Optimality check.** The epoch objective stops improving both when the
    fit has arrived and when the steps are too small to move.  So, unless
    ``tol`` is None or ``early_stopping`` is set, fit computes the full
    gradient mapping (one pass over X, in standardised coordinates) and from
    it a lower bound on what the objective can still lose: more than 1% of
    the objective means far from the optimum.  ``"auto"`` then
    halves its step and goes on; at the end of a run, any schedule gets a
    ConvergenceWarning saying what the steps did -- too large if they hit
    the step cap or raised the objective, too small only if they lowered it
    well under the cap -- and what to change.  For losses without a
    curvature bound, a fit worse than predicting the mean gets the warning.

    **Step cap.** A step larger than ``2 / L``, L the curvature of a
    mini-batch's loss, overshoots and, repeated, diverges -- scikit-learn's
    SGDRegressor then returns coefficients of 1e10 on unscaled data.  So each
    step is capped at ``max_eta_ = 1.5 / L``, with L measured on a few
    batches of the first window (the loss's ``smoothness`` times the largest
    eigenvalue of the batch's weighted ``[X_b, 1]ᵀ[X_b, 1] / |b|``).  On
    standardised data the cap lies far above the default steps and changes
    nothing.

    Losses without a curvature bound have no such ``L``; their steps are
    capped where an update would move the predictions by 1.5 times the
    targets' spread (sample weights included), and a fit or ``partial_fit``
    whose last steps were still capped -- steps that oscillate and never
    converge -- raises a DivergenceError.

    **Divergence.** If the loss becomes non-finite or grows 1e8-fold, fitting
    stops with :class:`~skla.exceptions.DivergenceError`, naming the step
    size; the estimator is never left with NaN or exploding coefficients, and
    a ``partial_fit`` that fails leaves the model as it was before the
    call.

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
        # A negative exponent makes the steps grow (scikit-learn 1.9 warns,
        # 1.10 refuses): refused here.
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
        loss="squared_error",
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        batch_size=32,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        random_state=None,
        learning_rate="auto",
        eta0=0.01,
        power_t=0.25,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        warm_start=False,
        average=False,
    ):
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

    # -- fitting ----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
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
        if is_dask_collection(X):
            return self._fit_dask(X, y, coef_init, intercept_init, sample_weight)
        self._refuse_other_namespaces(X)
        X, Y, sample_weight, y_ndim = self._validate(X, y, sample_weight, reset=True)
        # An extreme entry that the sampled scale missed overflows: "auto",
        # which rescales X, then tries again at the scale of every entry.
        auto = getattr(self._settings()["schedule"], "preconditioned", False)

        def fit(x_scale):
            return self._fit(
                X, Y, sample_weight, y_ndim, coef_init, intercept_init, x_scale
            )

        errors = (DivergenceError,) if auto else ()
        return retry_at_full_scale(fit, X, power_of_two_scale(X), errors)

    def _fit(self, X, Y, sample_weight, y_ndim, coef_init, intercept_init, x_scale):
        """fit on validated data, X scaled by ``x_scale`` under "auto"."""
        coef, intercept = self._start(X, Y, coef_init, intercept_init)
        settings = self._settings()
        X, coef = self._scale_data(X, coef, settings, scale=x_scale)
        random_state = check_random_state(self.random_state)
        rows = validation = None
        if self.early_stopping:
            rows, validation = self._split(X, Y, sample_weight, random_state)
        rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        start = (coef.copy(), intercept.copy())
        engine = MiniBatchSGD(coef, intercept, **settings)
        engine.rng = rng  # partial_fit after fit continues the same stream
        check = None
        if self.tol is not None and not self.early_stopping:
            check = OptimalityCheck(engine, Rows(X, Y, sample_weight), start)
        # Attributes are set only once fitting succeeds (it may diverge).
        run = run_epochs(
            engine,
            X,
            Y,
            sample_weight,
            max_iter=self.max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            rng=rng if self.shuffle else None,
            rows=rows,
            validation=validation,
            check=check,
            verbose=self.verbose,
        )
        self.n_iter_ = run.n_iter
        self.loss_curve_ = run.loss_curve
        if self.early_stopping:
            self.validation_scores_ = run.validation_scores
            self.best_validation_score_ = float(run.best_score)
            self.best_loss_ = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = float(run.best_loss)
        self._finish(engine, y_ndim, X.dtype, run.best)
        return self

    def _fit_dask(self, X, y, coef_init, intercept_init, sample_weight):
        """fit on dask arrays: epochs of ``partial_fit`` over the row chunks,
        visited in a random order; each update runs on the worker that holds
        the chunk, so only the model (a few vectors) travels.  The stopping
        rule is fit's, with the optimality check as a map-reduce over the
        chunks (see :func:`skla._dask.sgd_epochs`)."""
        from .._dask import sgd_epochs

        if self.early_stopping or coef_init is not None or intercept_init is not None:
            raise ValueError(
                "SGDMiniBatchRegressor.fit on dask arrays supports neither "
                "early_stopping nor coef_init/intercept_init yet; fit the "
                "chunks with partial_fit instead."
            )
        if not self.warm_start:
            for name in ("_sgd", "coef_", "intercept_", "t_"):
                self.__dict__.pop(name, None)
        model, run = sgd_epochs(
            self, X, y, sample_weight, check_random_state(self.random_state)
        )
        self.__dict__.update(model.__dict__)  # the worker's copy, back here
        self.n_iter_, self.loss_curve_ = run.n_iter, run.loss_curve
        self.best_loss_ = float(run.best_loss)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
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
        if allow_all_zero_weights is None:
            allow_all_zero_weights = not first
        before = dict(vars(self))
        try:
            self._refuse_other_namespaces(X)
            X, Y, sample_weight, y_ndim = self._validate(
                X,
                y,
                sample_weight,
                reset=first,
                allow_all_zero_weights=allow_all_zero_weights,
            )
            engine, X, Y, sample_weight = self._chunk_engine(X, Y, sample_weight, first)
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
        objective = loss + engine.penalty_value()
        if first:
            self.n_iter_, self.loss_curve_ = 0, []
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = None
        self.loss_curve_.append(objective)
        if self.best_loss_ is None or objective < self.best_loss_:
            self.best_loss_ = objective
        self.n_iter_ += 1
        self._finish(engine, y_ndim, engine.coef.dtype, None)
        return self

    def _chunk_engine(self, X, Y, sample_weight, first):
        """The engine for one ``partial_fit`` pass, and the chunk in its dtype.

        Later calls run on a copy of the state (a few vectors; the window
        buffer was released), so that on a DivergenceError the model stays
        as it was before the call.
        """
        if not first and Y.shape[1] != self._sgd.coef.shape[1]:
            raise ValueError(
                f"y has {Y.shape[1]} target(s) but the model was fitted with "
                f"{self._sgd.coef.shape[1]}."
            )
        settings = self._settings()
        if first:
            coef, intercept = self._start(X, Y, None, None, warm=False)
            X, coef = self._scale_data(X, coef, settings)
            engine = MiniBatchSGD(coef, intercept, **settings)
        else:
            engine = copy.deepcopy(self._sgd)
            dtype = engine.coef.dtype
            X, Y = X.astype(dtype, copy=False), Y.astype(dtype, copy=False)
            if sample_weight is not None:
                sample_weight = sample_weight.astype(dtype, copy=False)
            X, _ = self._scale_data(X, None, settings, scale=engine.x_scale)
            if _same_component(settings["schedule"], engine.schedule):
                # Unchanged parameters: the schedule's state carries on (the
                # smaller step "adaptive" took at a plateau of fit's epochs
                # on dask, which call partial_fit chunk by chunk).
                settings["schedule"] = engine.schedule
            engine.configure(**settings)
        if engine.rng is None:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            engine.rng = np.random.default_rng(seed)
        return engine, X, Y, sample_weight

    # -- helpers ----------------------------------------------------------

    @staticmethod
    def _refuse_other_namespaces(X):
        """The mini-batch engine is numpy code: arrays of another array-API
        namespace (dispatch on) get a clear error, not a deep traceback."""
        ns = namespace_of(X)
        if ns is not None:
            raise unsupported("SGDMiniBatchRegressor", ns)

    def _validate(self, X, y, sample_weight, *, reset, allow_all_zero_weights=False):
        X, Y, sample_weight, y_ndim = self._validate_fit_data(
            X,
            y,
            sample_weight,
            reset=reset,
            allow_all_zero_weights=allow_all_zero_weights,
        )
        if sp.issparse(X):
            X = X.tocsr()  # row batches; a no-op for CSR
        return X, Y, sample_weight, y_ndim

    def _start(self, X, Y, coef_init, intercept_init, *, warm=None):
        """Starting coefficients (n_features, n_targets) and intercept."""
        n_features, n_targets = X.shape[1], Y.shape[1]
        warm = self.warm_start if warm is None else warm
        if warm and hasattr(self, "_sgd") and coef_init is None:
            coef_init = self.coef_
            if intercept_init is None and self.fit_intercept:
                intercept_init = self.intercept_
        coef = np.zeros((n_features, n_targets), dtype=X.dtype)
        intercept = np.zeros(n_targets, dtype=X.dtype)
        if coef_init is not None:
            coef[...] = self._coef_matrix(
                coef_init, n_features, n_targets, name="coef_init"
            )
        if intercept_init is not None:
            intercept_init = np.asarray(intercept_init, dtype=X.dtype).ravel()
            if intercept_init.size != n_targets:
                raise ValueError(
                    f"intercept_init has {intercept_init.size} values; expected "
                    f"n_targets = {n_targets}."
                )
            intercept[...] = intercept_init
        return coef, intercept

    def _components(self):
        loss, penalty = self._resolve_loss_and_penalty()
        schedule = resolve(
            "schedule",
            self.learning_rate,
            param="learning_rate",
            eta0=self.eta0,
            power_t=self.power_t,
            alpha=self.alpha,
        )
        return loss, penalty, schedule

    def _settings(self):
        """The engine's components and settings, resolved from the parameters."""
        loss, penalty, schedule = self._components()
        self.loss_, self.penalty_, self.learning_rate_ = loss, penalty, schedule
        average = self.average
        if isinstance(average, (bool, np.bool_)):
            average = bool(average)
        if getattr(schedule, "preconditioned", False) and average is False:
            # A constant step converges only on average: "auto" always
            # reports the tail average.
            average = True
        if average is True:
            average_start, tail = 1, True
        elif average is False or average == 0:
            average_start, tail = None, False
        else:
            average_start, tail = int(average), False
        return {
            "loss": loss,
            "penalty": penalty,
            "schedule": schedule,
            "alpha": float(self.alpha),
            "fit_intercept": self.fit_intercept,
            "batch_size": int(self.batch_size),
            "average_start": average_start,
            "tail_average": tail,
        }

    def _split(self, X, Y, sample_weight, random_state):
        """Training rows (sorted, so blocks stay contiguous) and validation data."""
        n_samples = X.shape[0]
        n_validation = int(np.ceil(self.validation_fraction * n_samples))
        if n_validation < 1 or n_validation >= n_samples:
            raise ValueError(
                f"early_stopping: validation_fraction={self.validation_fraction} "
                f"of {n_samples} samples leaves an empty training or validation "
                "set; use more samples or another validation_fraction."
            )
        split = ShuffleSplit(
            n_splits=1, test_size=n_validation, random_state=random_state
        )
        train, test = next(split.split(np.empty((n_samples, 1))))
        weights = None if sample_weight is None else sample_weight[test]
        return np.sort(train), (X[test], Y[test], weights)

    def _scale_data(self, X, coef, settings, *, scale=None):
        """X beyond 1e±60 as ``cx·X``, for ``learning_rate="auto"`` only.

        "auto" is scale-free, so the fit on ``cx·X`` (``cx`` a power of two,
        exact) is the same fit, without the squares of 1e160 overflowing;
        the coefficients are ``β' = β / cx`` inside, and the penalty is
        rescaled by its degree (:func:`~skla.components.penalties.rescaled`).
        The scale of the first call is kept for ``partial_fit``.  scikit-
        learn's schedules keep their meaning: their steps are not scale-free.
        """
        if not getattr(settings["schedule"], "preconditioned", False):
            settings["x_scale"] = 1.0
            return X, coef
        cx = power_of_two_scale(X) if scale is None else scale
        penalty, alpha, cx = rescaled(settings["penalty"], settings["alpha"], cx)
        settings.update(penalty=penalty, alpha=alpha, x_scale=cx)
        if cx == 1.0:
            return X, coef
        if coef is not None:
            coef = coef / cx
        return X * cx, coef

    def _finish(self, engine, y_ndim, dtype, best):
        """Store coef_, intercept_, t_ and the state partial_fit continues from."""
        coef, intercept = best if best is not None else engine.result()
        engine.release_buffers()  # a fitted model should not carry 2 MiB of rows
        self._sgd = engine
        self.learning_rate_ = engine.schedule  # the calibrated one
        self.t_ = engine.t
        self.max_eta_ = float(engine.max_eta)
        with np.errstate(over="ignore", under="ignore"):
            coef = coef * engine.x_scale
        self._set_coef(coef, None, y_ndim, intercept, dtype=dtype)


def _same_component(new, old):
    """Whether ``new`` is ``old`` resolved again from the same parameters."""
    if type(new) is not type(old) or not hasattr(new, "get_params"):
        return False
    return new.get_params() == old.get_params()
