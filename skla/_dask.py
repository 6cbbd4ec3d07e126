"""Dask arrays: the row statistics reduced over chunks, lazy predictions.

skla never imports dask itself (``pip install "skla[dask]"`` brings it):
an estimator that is handed a dask array comes here.  Fitting maps
:meth:`RowStatistics.of <skla._algorithms.statistics.RowStatistics.of>`
over the row chunks (on the workers, where the data are) and merges the
results in a tree; only ``(d + k)²`` numbers per chunk travel, and X is
never gathered.  The computation runs on the active
``distributed.Client`` if there is one, else on dask's default scheduler.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils.validation import check_array

from ._algorithms.convergence import far_from_optimum
from ._algorithms.statistics import RowStatistics, ScatterRangeError

__all__ = [
    "block_statistics",
    "is_dask_collection",
    "predict_blocks",
    "require_weight",
    "row_blocks",
    "row_statistics",
    "sgd_epoch",
    "sgd_epochs",
    "tree_reduce",
    "validated_chunk",
]


def is_dask_collection(X) -> bool:
    """Whether X is a dask collection, without importing dask."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "dask")


def _check_rows(X):
    """X as a 2-D dask array of whole rows per chunk, or a clear error."""
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array for X, got {X.ndim} dimension(s).")
    if np.isnan(X.shape[0]) or any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "X has chunks of unknown size (after boolean indexing, for example); "
            f"{_known_sizes('X')}"
        )
    return X.rechunk({1: -1})


def _known_sizes(name):
    """How to give a dask collection chunks of known size."""
    return (
        f"call {name}.compute_chunk_sizes() first, or, for a dask DataFrame or "
        "Series, to_dask_array(lengths=True) (to_dask_array() alone leaves "
        "the sizes unknown)."
    )


def _rows_like(X, a, name):
    """``a`` (y or sample_weight) as a dask array chunked by X's rows."""
    import dask.array as da

    if name == "sample_weight" and np.ndim(a) == 0:
        return da.full(X.shape[0], float(a), chunks=X.chunks[0])
    a = da.asarray(a)
    allowed = 1 if name == "sample_weight" else 2
    if a.ndim == 0 or a.ndim > allowed:
        raise ValueError(
            f"{name} must have {'1' if allowed == 1 else '1 or 2'} dimension(s); "
            f"got {a.ndim}."
        )
    if np.isnan(a.shape[0]) or any(np.isnan(c) for c in a.chunks[0]):
        raise ValueError(f"{name} has chunks of unknown size; {_known_sizes(name)}")
    if a.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} has {a.shape[0]} rows but X has {X.shape[0]}; they must match."
        )
    chunks = (X.chunks[0], *((s,) for s in a.shape[1:]))
    return a.rechunk(chunks)


def validated_chunk(X, Y, w, *, dtype=None):
    """One chunk validated where it lives: float X (dense, CSR or CSC), 2-D
    Y and non-negative weights in ``dtype`` (X's by default).  Y None: no
    targets (an SVD)."""
    X = check_array(X, dtype=(np.float64, np.float32), accept_sparse=("csr", "csc"))
    dtype = X.dtype if dtype is None else dtype
    if Y is None:
        Y = np.empty((X.shape[0], 0), dtype=dtype)
    Y = np.reshape(Y, (len(Y), -1))
    Y = check_array(Y, dtype=dtype, ensure_min_features=0, input_name="y")
    if w is not None:
        w = check_array(w, ensure_2d=False, dtype=dtype, input_name="sample_weight")
        if np.any(w < 0):
            raise ValueError("sample_weight must be non-negative.")
    return X, Y, w


def _chunk(X, Y, w, centre, gram, ranges, tolerate_range):
    """The statistics of one chunk, validated where it lives; None for a
    scatter matrix its squares would overflow, with ``tolerate_range`` (a
    worker that raises logs an error, though the fit goes on by R)."""
    X, Y, w = validated_chunk(X, Y, w)
    try:
        return RowStatistics.of(X, Y, w, centre=centre, gram=gram, ranges=ranges)
    except ScatterRangeError:
        if not tolerate_range:
            raise
        return None


def _merge(a, b):
    return None if a is None or b is None else a.merge(b)


def row_blocks(X, y, sample_weight):
    """The delayed ``(X, y, w)`` blocks of X's row chunks (whole rows; y and
    w None where not given, y chunked like X's rows)."""
    X = _check_rows(X)
    x_blocks = X.to_delayed().ravel()
    y_blocks = [None] * len(x_blocks)
    if y is not None:
        y_blocks = _rows_like(X, y, "y").to_delayed().ravel()
    w_blocks = [None] * len(x_blocks)
    if sample_weight is not None:
        w = _rows_like(X, sample_weight, "sample_weight")
        w_blocks = w.to_delayed().ravel()
    return list(zip(x_blocks, y_blocks, w_blocks, strict=True))


def tree_reduce(parts, combine):
    """``parts`` (delayed) combined pairwise in a tree: one delayed result,
    ``log₂`` of their number deep (new keys each call, as the parts')."""
    import dask

    combine = dask.delayed(combine, pure=False)
    parts = list(parts)
    while len(parts) > 1:
        odd = [parts.pop()] if len(parts) % 2 else []
        parts = [combine(a, b) for a, b in zip(parts[::2], parts[1::2], strict=True)]
        parts += odd
    return parts[0]


def row_statistics(
    X, y, sample_weight, *, centre, gram=False, ranges=False, tolerate_range=False
) -> RowStatistics | None:
    """The :class:`RowStatistics` of the rows of dask arrays, one pass.

    ``y`` None means no targets (an SVD of X).  With ``tolerate_range``, a
    scatter matrix whose squares would overflow is None, not an error.

    Columns are gathered into whole rows per chunk (``rechunk``); each
    chunk's statistics are computed on its worker and merged pairwise in a
    tree, so the client receives one ``(d + k)²`` matrix.
    """
    import dask

    # Not pure: each fit computes anew.  Pure keys are the same for the same
    # data, and a fit that follows another before the scheduler has released
    # its results would read them instead (a benchmark then times nothing).
    chunk = dask.delayed(_chunk, pure=False)
    options = (centre, gram, ranges, tolerate_range)
    parts = [chunk(*blocks, *options) for blocks in row_blocks(X, y, sample_weight)]
    return _weighed(tree_reduce(parts, _merge).compute())


def block_statistics(blocks, *, centre, gram=False, ranges=False):
    """:func:`row_statistics` of validated ``(X, Y, w)`` blocks (delayed
    tuples: the chunks a fit has persisted on the workers, so X is not read
    a second time)."""
    import dask

    chunk = dask.delayed(_block_chunk, pure=False)
    parts = [chunk(block, centre, gram, ranges, False) for block in blocks]
    return _weighed(tree_reduce(parts, _merge).compute())


def _weighed(statistics):
    """The statistics of all the rows, refused if their weights sum to zero
    (as in memory: there is nothing to fit)."""
    if statistics is not None:
        require_weight(statistics.weight)
    return statistics


def _block_chunk(block, *options):
    return _chunk(*block, *options)


def predict_blocks(predict, X, n_outputs, dtype):
    """``predict`` mapped over X's row chunks: a lazy dask array.

    ``n_outputs`` is None for 1-D predictions, else their number of columns.
    """
    X = X.rechunk({1: -1})
    if n_outputs is None:
        return X.map_blocks(predict, drop_axis=1, dtype=dtype)
    return X.map_blocks(predict, chunks=(X.chunks[0], (n_outputs,)), dtype=dtype)


def require_weight(weight):
    """Refuse rows whose weights sum to zero, in the words of the in-memory
    check (scikit-learn's ``_check_sample_weight``): there is nothing to fit."""
    if not weight > 0:
        raise ValueError("Sample weights must contain at least one non-zero number.")


def _partial_fit(model, X, y, w):
    """One ``partial_fit`` on a chunk, where the chunk lives; its weights may
    all be zero (the total was checked once, and chunks come in any order)."""
    return model._partial_fit(X, y, w, allow_all_zero_weights=True)


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
        model = step(model, *blocks[i]).compute()
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
    :class:`skla._dask_loss.ChunkedRows` -- before "auto" stops and after
    the run (it warns when far from the optimum).  Returns the fitted model
    and the run (:class:`~skla._algorithms.epochs.Epochs`).
    """
    from ._algorithms.epochs import Epochs, may_stop, record_epoch, warn_at_max_iter

    blocks = row_blocks(X, y, sample_weight)
    if sample_weight is not None:  # one pass over w, as fit's check in memory
        require_weight(
            float(_rows_like(_check_rows(X), sample_weight, "sample_weight").sum())
        )
    sizes = np.array(_check_rows(X).chunks[0], dtype=np.float64)
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
            check = check or _optimality_check(engine, X, y, sample_weight, start)
            if check is not None:
                check.engine = engine
            if may_stop(run, engine, check):  # may lower "adaptive"'s step
                break
            no_improvement = 0
    else:
        warn_at_max_iter(model.max_iter, model.tol)
    if model.tol is not None and (not run.arrived or run.n_iter == model.max_iter):
        check = check or _optimality_check(engine, X, y, sample_weight, start)
        if check is not None:
            check.engine = engine
            far_from_optimum(engine, check, run.n_iter)
    return model, run


def _engine_start(model):
    """A warm start's ``(coef, intercept)`` in the engine's coordinates, or
    None (a cold start)."""
    engine = getattr(model, "_sgd", None) if model.warm_start else None
    return None if engine is None else tuple(a.copy() for a in engine.result())


def _optimality_check(engine, X, y, sample_weight, start):
    """The optimality check over the rows of the dask arrays, or None for a
    loss that does not add up over chunks (it cannot be judged there)."""
    from ._algorithms.convergence import OptimalityCheck
    from ._dask_loss import ChunkedRows, chunked_form, validated_blocks

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
    if sample_weight is None:
        total = float(X.shape[0])
    else:
        total = float(_rows_like(_check_rows(X), sample_weight, "sample_weight").sum())
    blocks = validated_blocks(X, y, sample_weight)
    # SGDRegressor's objective, Σ wᵢ ℓᵢ / n, as in memory.
    rows = ChunkedRows(blocks, total, scale=engine.x_scale, divisor=X.shape[0])
    return OptimalityCheck(engine, rows, start)
