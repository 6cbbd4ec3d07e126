"""Dask input as whole-row chunks: validation, row statistics, lazy outputs.

skla never imports dask itself (``pip install "skla[dask]"`` brings it):
an estimator handed a dask array or DataFrame comes here.  A DataFrame
becomes an array of known chunk sizes (its column names, its
``feature_names_in_``).  Fitting maps :meth:`RowStatistics.of
<skla._algorithms.statistics.RowStatistics.of>` over the row chunks (on
the workers, where the data are) and merges the results in a tree; only
``(d + k)²`` numbers per chunk travel, and X is never gathered.

A chunk that fails validation where it lives (a NaN, a negative weight)
does not raise there -- a worker would log a "Compute Failed" block -- but
returns a :class:`ChunkFailure`, which travels up the reduction and is
raised on the client with the chunk's rows named.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_array

from ..._algorithms.statistics import RowStatistics, ScatterRangeError

__all__ = [
    "ChunkFailure",
    "as_array",
    "block_statistics",
    "check_rows",
    "is_dask_collection",
    "map_rows",
    "raise_failure",
    "require_weight",
    "row_blocks",
    "row_statistics",
    "rows_like",
    "tree_reduce",
    "validated_chunk",
]


def is_dask_collection(X) -> bool:
    """Whether X is a dask collection, without importing dask."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "dask")


class ChunkFailure(NamedTuple):
    """An error found in a chunk, carried to the client as a value."""

    error: type
    message: str


def raise_failure(result):
    """``result``, or the error it carries (a :class:`ChunkFailure`)."""
    if isinstance(result, ChunkFailure):
        raise result.error(result.message)
    return result


def as_array(a, name, *, sizes=True):
    """A dask DataFrame or Series as an array -- with known chunk sizes if
    ``sizes`` (one pass to count each chunk's rows: a fit needs them, a
    lazy prediction does not) -- and the DataFrame's empty ``_meta`` (its
    columns and dtypes; None for anything else).

    Raises a clear error for non-numeric columns, naming them.
    """
    if not hasattr(a, "to_dask_array"):
        return a, None
    meta = getattr(a, "_meta", None)
    if hasattr(meta, "columns"):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        other = [
            str(c)
            for c, t in meta.dtypes.items()
            if not (is_numeric_dtype(t) or is_bool_dtype(t))
        ]
        if other:
            raise ValueError(
                f"{name} has non-numeric columns {other}: skla fits numbers "
                "only. Drop them or encode them as numbers first (for "
                "example with dask_ml.preprocessing or pandas' get_dummies)."
            )
    else:
        meta = None  # a Series: no feature names
    # The sizes of the array's own chunks: to_dask_array(lengths=True)
    # counts the rows of the frame's partitions, which the optimizer may
    # group otherwise than the array's (dask issue 12411: a column subset
    # of a parquet frame fails).
    array = a.to_dask_array()
    return (array.compute_chunk_sizes() if sizes else array), meta


def check_rows(X):
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


def rows_like(X, a, name):
    """``a`` (y or sample_weight: a dask array, Series, or anything
    ``da.asarray`` takes) as a dask array chunked by X's rows."""
    import dask.array as da

    if name == "sample_weight" and np.ndim(a) == 0:
        return da.full(X.shape[0], float(a), chunks=X.chunks[0])
    a = da.asarray(as_array(a, name)[0])
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


def validated_chunk(X, Y, w, *, dtype=None, where=""):
    """One chunk validated where it lives: float X (dense, CSR or CSC), 2-D
    Y and non-negative weights in ``dtype`` (X's by default).  Y None: no
    targets (an SVD).  An error names the input and ``where`` (the rows)."""
    try:
        X = check_array(
            X,
            dtype=(np.float64, np.float32),
            accept_sparse=("csr", "csc"),
            input_name="X",
        )
        dtype = X.dtype if dtype is None else dtype
        if Y is None:
            Y = np.empty((X.shape[0], 0), dtype=dtype)
        Y = np.reshape(Y, (len(Y), -1))
        Y = check_array(Y, dtype=dtype, ensure_min_features=0, input_name="y")
        if w is not None:
            w = check_array(w, ensure_2d=False, dtype=dtype, input_name="sample_weight")
            if np.any(w < 0):
                raise ValueError(
                    "Negative values in data passed to `sample_weight`: "
                    "sample_weight must be non-negative."
                )
    except ValueError as error:
        raise ValueError(f"{error} (in {where})" if where else str(error)) from None
    return X, Y, w


def _chunk(X, Y, w, where, centre, gram, ranges, tolerate_range, cholesky_tol=None):
    """The statistics of one chunk, validated where it lives; None for a
    scatter matrix its squares would overflow, with ``tolerate_range``; a
    :class:`ChunkFailure` for invalid rows."""
    try:
        X, Y, w = validated_chunk(X, Y, w, where=where)
        return RowStatistics.of(
            X, Y, w, centre=centre, gram=gram, ranges=ranges, cholesky_tol=cholesky_tol
        )
    except ScatterRangeError as error:
        return None if tolerate_range else ChunkFailure(ScatterRangeError, str(error))
    except ValueError as error:
        return ChunkFailure(ValueError, str(error))


def _merge(a, b):
    for part in (a, b):
        if part is None or isinstance(part, ChunkFailure):
            return part
    return a.merge(b)


def row_blocks(X, y, sample_weight):
    """The delayed ``(X, y, w, where)`` blocks of X's row chunks (whole
    rows; y and w None where not given, chunked like X's rows; ``where``
    names the chunk and its rows, for errors)."""
    X = check_rows(X)
    x_blocks = X.to_delayed().ravel()
    y_blocks = [None] * len(x_blocks)
    if y is not None:
        y_blocks = rows_like(X, y, "y").to_delayed().ravel()
    w_blocks = [None] * len(x_blocks)
    if sample_weight is not None:
        w = rows_like(X, sample_weight, "sample_weight")
        w_blocks = w.to_delayed().ravel()
    stops = np.cumsum(X.chunks[0])
    where = [
        f"X's row chunk {i}, rows {stop - size}-{stop - 1}"
        for i, (size, stop) in enumerate(zip(X.chunks[0], stops, strict=True))
    ]
    return list(zip(x_blocks, y_blocks, w_blocks, where, strict=True))


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
    X,
    y,
    sample_weight,
    *,
    centre,
    gram=False,
    ranges=False,
    tolerate_range=False,
    allow_all_zero_weights=False,
    cholesky_tol=None,
) -> RowStatistics | None:
    """The :class:`RowStatistics` of the rows of dask arrays, one pass.

    ``y`` None means no targets (an SVD of X).  With ``tolerate_range``, a
    scatter matrix whose squares would overflow is None, not an error.
    Rows whose weights sum to zero are refused, as in memory, unless
    ``allow_all_zero_weights`` (a later chunk of a ``partial_fit`` stream).
    ``cholesky_tol``: see :meth:`~skla._algorithms.statistics.RowStatistics.of`.

    Columns are gathered into whole rows per chunk (``rechunk``); each
    chunk's statistics are computed on its worker and merged pairwise in a
    tree, so the client receives one ``(d + k)²`` matrix.
    """
    import dask

    # Not pure: each fit computes anew.  Pure keys are the same for the same
    # data, and a fit that follows another before the scheduler has released
    # its results would read them instead (a benchmark then times nothing).
    chunk = dask.delayed(_chunk, pure=False)
    options = (centre, gram, ranges, tolerate_range, cholesky_tol)
    parts = [chunk(*blocks, *options) for blocks in row_blocks(X, y, sample_weight)]
    statistics = raise_failure(tree_reduce(parts, _merge).compute())
    return statistics if allow_all_zero_weights else _weighed(statistics)


def block_statistics(blocks, *, centre, gram=False, ranges=False):
    """:func:`row_statistics` of validated ``(X, Y, w)`` blocks (delayed
    tuples: the chunks a fit has persisted on the workers, so X is not read
    a second time)."""
    import dask

    chunk = dask.delayed(_block_chunk, pure=False)
    parts = [chunk(block, centre, gram, ranges, False) for block in blocks]
    return _weighed(raise_failure(tree_reduce(parts, _merge).compute()))


def _weighed(statistics):
    """The statistics of all the rows, refused if their weights sum to zero
    (as in memory: there is nothing to fit)."""
    if statistics is not None:
        require_weight(statistics.weight)
    return statistics


def _block_chunk(block, *options):
    if isinstance(block, ChunkFailure):
        return block
    return _chunk(*block, "", *options)


def _apply_chunk(X, function, arrays):
    X = check_array(X, dtype=(np.float64, np.float32), accept_sparse=("csr", "csc"))
    return function(X, *(np.asarray(a).astype(X.dtype, copy=False) for a in arrays))


def map_rows(function, X, arrays, n_outputs, dtype):
    """``function(chunk, *arrays)`` mapped over X's row chunks: a lazy dask
    array (``n_outputs`` None for 1-D outputs, else their number of columns)."""
    X = X.rechunk({1: -1})
    if n_outputs is None:
        return X.map_blocks(_apply_chunk, function, arrays, drop_axis=1, dtype=dtype)
    chunks = (X.chunks[0], (n_outputs,))
    return X.map_blocks(_apply_chunk, function, arrays, chunks=chunks, dtype=dtype)


def require_weight(weight):
    """Refuse rows whose weights sum to zero, in the words of the in-memory
    check (scikit-learn's ``_check_sample_weight``): there is nothing to fit."""
    if not weight > 0:
        raise ValueError("Sample weights must contain at least one non-zero number.")
