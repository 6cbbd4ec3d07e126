"""SGDMiniBatchRegressor's engine, set up from the estimator's parameters.

The components and settings the mini-batch engine runs with, the starting
point, the exact rescaling of extreme data under ``learning_rate="auto"``,
the early-stopping split, and the engine of one ``partial_fit`` chunk.
Functions of the estimator (``model``): they read its parameters and its
last state; :func:`engine_settings` sets the resolved components (``loss_``,
``penalty_``, ``learning_rate_``), and :func:`record_pass` and
:func:`finish` the fitted attributes of a pass or a fit.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import ShuffleSplit
from sklearn.utils import check_random_state

from .._algorithms.convergence import OptimalityCheck, Rows
from .._algorithms.epochs import run_epochs
from .._algorithms.minibatch import MiniBatchSGD
from .._algorithms.scaling import power_of_two_scale
from ..components.penalties import rescaled
from ..exceptions import DivergenceError
from ..plugins import resolve

__all__ = [
    "chunk_engine",
    "components",
    "engine_settings",
    "epochs_in_memory",
    "finish",
    "fit_in_memory",
    "record_pass",
    "same_component",
    "scaled_data",
    "start_point",
    "validation_split",
]


def chunk_engine(model, X, Y, sample_weight, first):
    """The engine for one ``partial_fit`` pass, and the chunk in its dtype.

    Later calls run on a copy of the state (a few vectors; the window
    buffer was released), so that on a DivergenceError the model stays
    as it was before the call.
    """
    if not first and Y.shape[1] != model._sgd.coef.shape[1]:
        raise ValueError(
            f"y has {Y.shape[1]} target(s) but the model was fitted with "
            f"{model._sgd.coef.shape[1]}."
        )
    settings = engine_settings(model)
    if first:
        coef, intercept = start_point(model, X, Y, None, None, warm=False)
        X, coef = scaled_data(X, coef, settings)
        engine = MiniBatchSGD(coef, intercept, **settings)
    else:
        engine = copy.deepcopy(model._sgd)
        dtype = engine.coef.dtype
        X, Y = X.astype(dtype, copy=False), Y.astype(dtype, copy=False)
        if sample_weight is not None:
            sample_weight = sample_weight.astype(dtype, copy=False)
        X, _ = scaled_data(X, None, settings, scale=engine.x_scale)
        if same_component(settings["schedule"], engine.schedule):
            # Unchanged parameters: the schedule's state carries on (the
            # smaller step "adaptive" took at a plateau of fit's epochs
            # on dask, which call partial_fit chunk by chunk).
            settings["schedule"] = engine.schedule
        engine.configure(**settings)
    if engine.rng is None:
        seed = check_random_state(model.random_state).randint(np.iinfo(np.int32).max)
        engine.rng = np.random.default_rng(seed)
    return engine, X, Y, sample_weight


def start_point(model, X, Y, coef_init, intercept_init, *, warm=None):
    """Starting coefficients (n_features, n_targets) and intercept."""
    n_features, n_targets = X.shape[1], Y.shape[1]
    warm = model.warm_start if warm is None else warm
    if warm and hasattr(model, "_sgd") and coef_init is None:
        coef_init = model.coef_
        if intercept_init is None and model.fit_intercept:
            intercept_init = model.intercept_
    coef = np.zeros((n_features, n_targets), dtype=X.dtype)
    intercept = np.zeros(n_targets, dtype=X.dtype)
    if coef_init is not None:
        coef[...] = model._coef_matrix(
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


def components(model):
    loss, penalty = model._resolve_loss_and_penalty()
    schedule = resolve(
        "schedule",
        model.learning_rate,
        param="learning_rate",
        eta0=model.eta0,
        power_t=model.power_t,
        alpha=model.alpha,
    )
    return loss, penalty, schedule


def engine_settings(model):
    """The engine's components and settings, resolved from the parameters."""
    loss, penalty, schedule = components(model)
    model.loss_, model.penalty_, model.learning_rate_ = loss, penalty, schedule
    average = model.average
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
        "alpha": float(model.alpha),
        "fit_intercept": model.fit_intercept,
        "batch_size": int(model.batch_size),
        "average_start": average_start,
        "tail_average": tail,
    }


def validation_split(model, X, Y, sample_weight, random_state):
    """Training rows (sorted, so blocks stay contiguous) and validation data."""
    n_samples = X.shape[0]
    n_validation = int(np.ceil(model.validation_fraction * n_samples))
    if n_validation < 1 or n_validation >= n_samples:
        raise ValueError(
            f"early_stopping: validation_fraction={model.validation_fraction} "
            f"of {n_samples} samples leaves an empty training or validation "
            "set; use more samples or another validation_fraction."
        )
    split = ShuffleSplit(n_splits=1, test_size=n_validation, random_state=random_state)
    train, test = next(split.split(np.empty((n_samples, 1))))
    weights = None if sample_weight is None else sample_weight[test]
    return np.sort(train), (X[test], Y[test], weights)


def scaled_data(X, coef, settings, *, scale=None):
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


def same_component(new, old):
    """Whether ``new`` is ``old`` resolved again from the same parameters."""
    if type(new) is not type(old) or not hasattr(new, "get_params"):
        return False
    return new.get_params() == old.get_params()


def epochs_in_memory(model, X, Y, sample_weight, coef_init, intercept_init, x_scale):
    """fit's epochs over in-memory rows (X scaled by ``x_scale`` under
    "auto"): the early-stopping split, the engine from the starting point,
    the optimality check over all rows; returns the engine and the run
    (:class:`~skla._algorithms.epochs.Epochs`)."""
    coef, intercept = start_point(model, X, Y, coef_init, intercept_init)
    settings = engine_settings(model)
    X, coef = scaled_data(X, coef, settings, scale=x_scale)
    random_state = check_random_state(model.random_state)
    rows = validation = None
    if model.early_stopping:
        rows, validation = validation_split(model, X, Y, sample_weight, random_state)
    rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    start = (coef.copy(), intercept.copy())
    engine = MiniBatchSGD(coef, intercept, **settings)
    engine.rng = rng  # partial_fit after fit continues the same stream
    check = None
    if model.tol is not None and not model.early_stopping:
        check = OptimalityCheck(engine, Rows(X, Y, sample_weight), start)
    run = run_epochs(
        engine,
        X,
        Y,
        sample_weight,
        max_iter=model.max_iter,
        tol=model.tol,
        n_iter_no_change=model.n_iter_no_change,
        rng=rng if model.shuffle else None,
        rows=rows,
        validation=validation,
        check=check,
        verbose=model.verbose,
    )
    return engine, run


def fit_in_memory(model, data, coef_init, intercept_init, backend):
    """fit on rows in memory: the engine's epochs (see
    :func:`epochs_in_memory`) at the scale ``backend.at_scale`` picks, then
    the fitted attributes.  An extreme entry that the sampled scale missed
    overflows: "auto", which rescales X, then tries again at the scale of
    every entry."""
    X = data.X.tocsr() if sp.issparse(data.X) else data.X  # row batches

    def epochs(x_scale):
        Y, w = data.Y, data.sample_weight
        return epochs_in_memory(model, X, Y, w, coef_init, intercept_init, x_scale)

    auto = getattr(engine_settings(model)["schedule"], "preconditioned", False)
    errors = (DivergenceError,) if auto else ()
    # Attributes are set only once fitting succeeds (it may diverge).
    engine, run = backend.at_scale(epochs, data, errors)
    model.n_iter_, model.loss_curve_ = run.n_iter, run.loss_curve
    _clear_scores(model)
    if model.early_stopping:
        model.validation_scores_ = run.validation_scores
        model.best_validation_score_ = float(run.best_score)
    else:
        model.best_loss_ = float(run.best_loss)
    finish(model, engine, data.y_ndim, data.dtype, run.best)
    return model


def _clear_scores(model):
    """No validation scores and no best loss yet."""
    model.validation_scores_ = model.best_validation_score_ = None
    model.best_loss_ = None


def record_pass(model, objective, first):
    """A ``partial_fit`` pass's objective in ``loss_curve_``, ``best_loss_``
    and ``n_iter_`` (started by the first call)."""
    if first:
        model.n_iter_, model.loss_curve_ = 0, []
        _clear_scores(model)
    model.loss_curve_.append(objective)
    if model.best_loss_ is None or objective < model.best_loss_:
        model.best_loss_ = objective
    model.n_iter_ += 1


def finish(model, engine, y_ndim, dtype, best):
    """Store coef_, intercept_, t_ and the state partial_fit continues from."""
    coef, intercept = best if best is not None else engine.result()
    engine.release_buffers()  # a fitted model should not carry 2 MiB of rows
    model._sgd = engine
    model.learning_rate_ = engine.schedule  # the calibrated one
    model.t_ = engine.t
    model.max_eta_ = float(engine.max_eta)
    with np.errstate(over="ignore", under="ignore"):
        coef = coef * engine.x_scale
    model._set_coef(coef, y_ndim, intercept, dtype=dtype)
