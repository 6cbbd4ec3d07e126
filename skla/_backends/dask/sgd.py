"""SGDMiniBatchRegressor on dask: epochs of ``partial_fit`` over the chunks.

Each update runs on the worker that holds the chunk, so only the model (a
few vectors) travels; the chunks are persisted once per fit, so an epoch
reads no input graph again.  The stopping rule is ``fit``'s, with the
optimality check as a map-reduce over the chunks (:mod:`.loss`).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
from sklearn.utils import check_random_state

from ..._algorithms.convergence import far_from_optimum
from .rows import ChunkFailure, raise_failure, require_weight, row_blocks

__all__ = ["fit_epochs", "sgd_epoch", "sgd_epochs"]


def fit_epochs(model, data, *, coef_init=None, intercept_init=None):
    """``model.fit`` on validated dask data (:class:`~..base.FitData`):
    epochs over the chunks, visited in a random order; returns the model
    with its fitted attributes.  ``early_stopping`` and initial values have
    no route here yet (``partial_fit`` over the chunks does)."""
    if model.early_stopping or coef_init is not None or intercept_init is not None:
        raise ValueError(
            "SGDMiniBatchRegressor.fit on dask arrays supports neither "
            "early_stopping nor coef_init/intercept_init yet; fit the "
            "chunks with partial_fit instead."
        )
    # The epochs run on a copy (the local schedulers update the model in
    # place), so a fit that fails leaves the estimator as it was.  The
    # chunks are arrays: the columns' names are set once the fit is done.
    trial = copy.deepcopy(model)
    trial.__dict__.pop("feature_names_in_", None)
    if not model.warm_start:
        for name in ("_sgd", "coef_", "intercept_", "t_"):
            trial.__dict__.pop(name, None)
    order = check_random_state(model.random_state)
    fitted, run = sgd_epochs(trial, data.X, data.Y, data.sample_weight, order)
    model.__dict__.update(fitted.__dict__)  # the worker's copy, back here
    model.n_iter_, model.loss_curve_ = run.n_iter, run.loss_curve
    model.best_loss_ = float(run.best_loss)
    return model


def _partial_fit(model, X, y, w, where):
    """One ``partial_fit`` on a chunk, where the chunk lives; its weights may
    all be zero (the total was checked once, and chunks come in any order).
    An error comes back as a value, naming the chunk's rows."""
    try:
        return model._partial_fit(X, y, w, allow_all_zero_weights=True)
    except (ValueError, FloatingPointError) as error:
        return ChunkFailure(type(error), f"{error} (in {where})")


def sgd_epoch(model, blocks, order):
    """One epoch of ``model.partial_fit`` over the row chunks ``blocks`` in a
    random order (``order``, a RandomState), each on the chunk's worker: the
    model travels, the data do not.  One chunk at a time: as a single chain
    of tasks, the schedulers would read chunks ahead of the chain.  Returns
    the model and the order of the visit."""
    import dask

    step = dask.delayed(_partial_fit, pure=False)
    visit = order.permutation(len(blocks))
    for i in visit:
        model = raise_failure(step(model, *blocks[i]).compute())
    return model, visit


def sgd_epochs(model, X, y, sample_weight, order):
    """``fit``'s epochs for an SGDMiniBatchRegressor on dask arrays.

    Each epoch is :func:`sgd_epoch`; its objective is the row-weighted mean
    of the chunks' objectives.  The stopping rule is ``fit``'s, through the
    same functions (:func:`~skla._algorithms.epochs.record_epoch` and
    :func:`~skla._algorithms.epochs.may_stop`): ``tol`` and
    ``n_iter_no_change`` on the epoch objective (``tol`` relative under
    ``learning_rate="auto"``), the "adaptive" schedule's smaller steps at a
    plateau, and the :class:`~skla._algorithms.convergence.OptimalityCheck`
    over all rows -- a map-reduce of the loss and its gradient, see
    :class:`~.loss.ChunkedRows` -- before "auto" stops and after
    the run (it warns when far from the optimum).  Returns the fitted model
    and the run (:class:`~skla._algorithms.epochs.Epochs`).
    """
    from ..._algorithms.epochs import Epochs, may_stop, record_epoch, warn_at_max_iter

    blocks = _persisted(row_blocks(X, y, sample_weight))
    if sample_weight is not None:  # one pass over w, as fit's checks in memory
        _check_weights(sample_weight)
    sizes = np.array(X.chunks[0], dtype=np.float64)
    n_rows = float(X.shape[0])
    start = _engine_start(model)
    run, check, no_improvement = Epochs(), None, 0
    for epoch in range(model.max_iter):
        model, visit = sgd_epoch(model, blocks, order)
        engine, run.n_iter = model._sgd, epoch + 1
        if start is None:  # a cold start: zeros
            start = tuple(np.zeros_like(a) for a in engine.result())
        chunks = np.asarray(model.loss_curve_[-len(blocks) :])
        objective = float(sizes[visit] @ chunks / sizes.sum())
        run.loss_curve.append(objective)
        improved = record_epoch(run, engine, objective, None, model.tol)
        no_improvement = 0 if improved else no_improvement + 1
        if no_improvement >= model.n_iter_no_change:
            check = check or _optimality_check(
                engine, blocks, n_rows, sample_weight, start
            )
            if check is not None:
                check.engine = engine
            if may_stop(run, engine, check):  # may lower "adaptive"'s step
                break
            no_improvement = 0
    else:
        warn_at_max_iter(model.max_iter, model.tol)
    if model.tol is not None and (not run.arrived or run.n_iter == model.max_iter):
        check = check or _optimality_check(engine, blocks, n_rows, sample_weight, start)
        if check is not None:
            check.engine = engine
            far_from_optimum(engine, check, run.n_iter)
    return model, run


def _check_weights(sample_weight):
    """Refuse negative weights, then weights summing to zero, in the words
    of the in-memory checks and in their order (a negative weight could
    otherwise make the sum look empty)."""
    import dask

    low, total = dask.compute(sample_weight.min(), sample_weight.sum())
    if low < 0:
        raise ValueError("Negative values in data passed to `sample_weight`.")
    require_weight(float(total))


def _persisted(blocks):
    """The ``(X, y, w, where)`` chunks, persisted on the workers of the
    active ``distributed.Client``: each epoch then sends the model alone,
    not the input's graph (for ``da.from_array``, the embedded data) once
    per chunk.  Without a client the chunks stay lazy: dask's local
    schedulers send nothing, and persisting would load all of X into this
    process (out-of-core input read chunk by chunk stays so)."""
    import dask

    if not _has_client():
        return blocks

    arrays = [part for block in blocks for part in block[:3] if part is not None]
    persisted = iter(dask.persist(*arrays))
    return [
        (*(None if part is None else next(persisted) for part in block[:3]), block[3])
        for block in blocks
    ]


def _has_client():
    try:
        from distributed import get_client

        get_client()
    except (ImportError, ValueError):
        return False
    return True


def _engine_start(model):
    """A warm start's ``(coef, intercept)`` in the engine's coordinates, or
    None (a cold start)."""
    engine = getattr(model, "_sgd", None) if model.warm_start else None
    return None if engine is None else tuple(a.copy() for a in engine.result())


def _optimality_check(engine, blocks, n_rows, sample_weight, start):
    """The optimality check over the rows of the persisted chunks, or None
    for a loss that does not add up over chunks (it cannot be judged there)."""
    import dask

    from ..._algorithms.convergence import OptimalityCheck
    from .loss import ChunkedRows, chunked_form, validate_block

    try:
        chunked_form(engine.loss, None)
    except ValueError:
        warnings.warn(
            f"SGDMiniBatchRegressor on dask cannot check that the fit is near "
            f"its optimum: the loss {engine.loss!r} does not declare "
            "`separable = True`, so its value over all rows cannot be added "
            "up over the chunks. The stopping rule alone decided.",
            UserWarning,
            stacklevel=5,
        )
        return None
    validated = [dask.delayed(validate_block, pure=True)(*b) for b in blocks]
    total = n_rows if sample_weight is None else float(sample_weight.sum())
    # SGDRegressor's objective, Σ wᵢ ℓᵢ / n, as in memory.
    rows = ChunkedRows(validated, total, scale=engine.x_scale, divisor=n_rows)
    return OptimalityCheck(engine, rows, start)
