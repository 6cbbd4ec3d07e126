"""The range finder's products with a dask array X, each where its chunk lives.

The tasks that :mod:`.svd` composes into one graph per fit: a chunk's
product with a small matrix and its QR (``y = x Z = Q_i R_i``, then
``x_iᵀ Q_i``), merges of R factors and of ``Xᵀ Q`` sums up a tree of at
most :data:`FAN_IN` parts per task, the column moments of X or of
``X V_k``, and the small SVD of ``B = Qᵀ X``.  Every function returns
delayed objects or runs inside a task; nothing here computes.
"""

from __future__ import annotations

import uuid

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp
from sklearn.utils.extmath import svd_flip
from sklearn.utils.validation import check_array

from ..._algorithms.svd_figures import combined_figures, projection_error
from .rows import check_rows

#: Parts that one task merges (a tree of merges for more chunks).
FAN_IN = 8


def _dense_chunk(block, dtype, block_info=None):
    """One validated chunk, dense (sparse chunks are densified one at a
    time); an error names X and the chunk's rows (``block_info``, from
    ``map_blocks``)."""
    if sp.issparse(block):
        block = block.toarray()
    try:
        return check_array(block, dtype=dtype, input_name="X")
    except ValueError as error:
        if not block_info:
            raise
        (start, stop), index = (
            block_info[0]["array-location"][0],
            block_info[0]["chunk-location"][0],
        )
        where = f"X's row chunk {index}, rows {start}-{stop - 1}"
        raise ValueError(f"{error} (in {where})") from None


def _row_chunks(X):
    """X's whole, validated float row chunks (a list of delayed arrays)."""
    X = check_rows(X)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    # Keys of their own: keys named by X's token would be the same in two
    # fits of one X, and a fit submitted before the scheduler has released
    # the last one's results would read them instead of computing.
    name = f"skla-rows-{uuid.uuid4().hex}"
    X = X.map_blocks(_dense_chunk, dtype, dtype=dtype, name=name)
    return list(X.to_delayed(optimize_graph=False).ravel()), np.dtype(dtype)


def _lazy(obj):
    """A function as a dask task, or a small array as one key (sent to a
    worker once, not once per task); new keys at each call."""
    import dask

    return dask.delayed(obj, pure=False)


def _reduced(parts, combine):
    """``parts`` combined ``FAN_IN`` at a time until at most ``FAN_IN``
    remain, for the task that consumes them to combine."""
    while len(parts) > FAN_IN:
        parts = [
            _lazy(combine)(*parts[i : i + FAN_IN]) for i in range(0, len(parts), FAN_IN)
        ]
    return parts


def _add(*parts):
    return sum(parts[1:], parts[0])


def _times(x, M):
    """``x M`` for a chunk x and a small M, as ``(Mᵀ xᵀ)ᵀ``: the same
    product, which OpenBLAS computes a third faster for a C-ordered x."""
    return (M.T @ x.T).T


def _tdot(a, b):
    return a.T @ b


def _local_qr(y):
    return sl.qr(y, mode="economic", overwrite_a=True, check_finite=False)


def _stacked_qr(parts):
    """The QR factors of the stacked R factors, Q split as they were."""
    W, R = sl.qr(np.vstack(parts), mode="economic", check_finite=False)
    return np.split(W, np.cumsum([len(r) for r in parts[:-1]])), R


def _factors(x, y=None, Z=None):
    """A chunk's share of ``Xᵀ Q``, Q the Q factor of Y: for its block
    ``y = Q_i R_i`` (``x Z`` if y is None), ``(R_i, x_iᵀ Q_i)``."""
    Q, R = _local_qr(_times(x, Z) if y is None else y)
    return R, _tdot(Q, x).T


def _merge_factors(*parts):
    """Shares ``(R_j, P_j)`` of ``Xᵀ Q`` merged, a level up the QR tree:
    the stacked R factors are ``W R``, and the merged share is ``(R, Σ_j P_j
    W_j)`` (``Q_j W_j`` is share j's part of the Q factor of its rows)."""
    W, R = _stacked_qr([part[0] for part in parts])
    return R, _add(*(part[1] @ w for part, w in zip(parts, W, strict=True)))


def _orthonormal_q(parts):
    """The Q factor of the d × l matrix ``Xᵀ Q`` from its last shares."""
    return sl.qr(_merge_factors(*parts)[1], mode="economic", check_finite=False)[0]


def _minus_times(y, q, C):
    return y - q @ _add(*C)


def _project_out(Y, Q):
    """``Y − Q Qᵀ Y`` by chunks, twice (classical Gram–Schmidt needs the
    second pass); Y and Q are lists of chunks' blocks."""
    for _ in range(2):
        C = _reduced([_lazy(_tdot)(q, y) for q, y in zip(Q, Y, strict=True)], _add)
        Y = [_lazy(_minus_times)(y, q, C) for y, q in zip(Y, Q, strict=True)]
    return Y


def _shares(chunks, Z, Q=None):
    """The shares of ``Xᵀ Q'`` (:func:`_factors`), Q' an orthonormal basis
    of ``span(X Z)`` (made orthogonal to Q, a list of chunks' blocks),
    merged down to at most :data:`FAN_IN`, lazily.

    Q' is the Q factor of a tall-skinny QR of ``Y = X Z`` (Householder per
    chunk, then of the stacked l × l R factors up a tree; a Cholesky QR
    would square the condition number of Y, which the power iterations make
    huge), never formed: ``Xᵀ Q' = Σ_i x_iᵀ Q_i W_i``.  So a half-step pair
    is one task per chunk, which reads its chunk twice, and the merges.
    """
    if Q is None:
        return _reduced([_lazy(_factors)(x, Z=Z) for x in chunks], _merge_factors)
    Y = _project_out([_lazy(_times)(x, Z) for x in chunks], Q)
    parts = [_lazy(_factors)(x, y) for x, y in zip(chunks, Y, strict=True)]
    return _reduced(parts, _merge_factors)


def _power_iterations(chunks, omega, n_iter, Q=None):
    """The orthonormal d × l matrix Z after the power iterations of
    :meth:`RangeFinder.basis
    <skla._algorithms.randomized_svd.RangeFinder.basis>` (each half-step
    renormalised; Y made orthogonal to Q), lazily: ``X Z`` spans what the
    in-memory basis spans."""
    Z = _lazy(omega)
    for _ in range(n_iter):
        Z = _lazy(_orthonormal_q)(_shares(chunks, Z, Q))
    return Z


def _q(factors, W, i):
    return factors[0] @ W[i]


def _basis(chunks, omega, n_iter, Q):
    """The chunks' blocks of an orthonormal basis for the range of ``(X
    Xᵀ)^q X Ω``, orthogonal to Q (None or a list of chunks' blocks), and
    ``B = Qᵀ X`` for them, lazily (a flat tall-skinny QR, whose Q factor is
    formed: it is kept for the next blocks)."""
    Z = _power_iterations(chunks, omega, n_iter, Q)
    Y = [_lazy(_times)(x, Z) for x in chunks]
    F = [_lazy(_local_qr)(y) for y in (Y if Q is None else _project_out(Y, Q))]
    W = _lazy(_stacked_qr)([f[1] for f in F])[0]
    new = [_lazy(_q)(f, W, i) for i, f in enumerate(F)]
    B = [_lazy(_tdot)(q, x) for q, x in zip(new, chunks, strict=True)]
    return new, _lazy(_add)(*_reduced(B, _add))


def _test_matrix(rng, width, d, dtype):
    """Ω (d × width), drawn as the in-memory range finder draws it."""
    return rng.standard_normal((width, d)).astype(dtype, copy=False).T


@np.errstate(over="ignore", invalid="ignore")  # an overflow: _total raises
def _moments(x):
    """A chunk's row count, and its columns' means and sums of squared
    deviations (float64).

    By blocks of rows shifted by the first row, so that a column with a
    large offset keeps its variance, in one reused 1 MB buffer: a worker
    returns freed memory to the system at once, and a new temporary per
    block would cost its page faults anew (five times the arithmetic).
    """
    n, d = x.shape
    pilot = np.array(x[0] if n else np.zeros(d), dtype=np.float64)
    rows = max(1, (1 << 17) // max(d, 1))
    buffer = np.empty((min(rows, n), d))
    shifted, squares = np.zeros(d), np.zeros(d)
    for start in range(0, n, rows):
        block = x[start : start + rows]
        block = np.subtract(block, pilot, out=buffer[: len(block)])
        shifted += block.sum(axis=0)
        squares += np.einsum("ij,ij->j", block, block)
    shift = shifted / max(n, 1)
    return n, pilot + shift, np.maximum(squares - n * shift**2, 0.0)


@np.errstate(over="ignore", invalid="ignore")
def _merge_moments(*parts):
    """Chunks' moments merged (Chan et al.: no cancellation)."""
    n = sum(p[0] for p in parts)
    mean = sum(p[0] * p[1] for p in parts) / max(n, 1)
    return n, mean, sum(p[2] + p[0] * (p[1] - mean) ** 2 for p in parts)


def _column_moments(chunks, Vt=None):
    """The merged moments of X's columns, or of ``Z = X V_k``'s in float64
    (not rounded to X's dtype: ``‖X‖² − ‖Z‖²`` gives the error), lazily."""
    if Vt is None:
        parts = [_lazy(_moments)(x) for x in chunks]
    else:
        parts = [_lazy(_coordinate_moments)(x, Vt) for x in chunks]
    return _lazy(_merge_moments)(*_reduced(parts, _merge_moments))


def _coordinate_moments(x, Vt):
    return _moments(_times(np.asarray(x, np.float64), np.asarray(Vt, np.float64).T))


def _sums(moments):
    """``(Σ var, Σ mean²)`` of X's columns: the total variance, ‖X‖_F² / m."""
    n, mean, squares = moments
    return float(np.sum(squares)) / n, float(np.sum(mean**2))


def _total(sums, m):
    """``‖X‖_F²`` from :func:`_sums`, or a ValueError if it overflows."""
    total = m * (sums[0] + sums[1])
    if not np.isfinite(total):
        raise ValueError(
            "‖X‖² overflows the floating-point range: rescale X (e.g. by a "
            "power of two) before fitting it on dask."
        )
    return total


def _small_svd(B):
    """Singular values and right vectors of the l × d matrix B = Qᵀ X."""
    _, s, Vt = sl.svd(B, full_matrices=False, check_finite=False)
    return s, Vt


def _top(s, Vt, k, dtype):
    """The top k triplets' values and right vectors, in X's dtype, with
    :func:`~sklearn.utils.extmath.svd_flip`'s signs (as in memory)."""
    _, Vt = svd_flip(None, np.array(Vt[:k], dtype=dtype), u_based_decision=False)
    return s[:k].astype(dtype), Vt


def _top_of(shares, moments, m, k, dtype):
    """The task ending the range finder: X's sums (checked for overflow
    before the SVD of a B that would hold infinities), and :func:`_top` of
    ``B = Qᵀ X``, the transpose of ``Xᵀ Q``."""
    sums = _sums(moments)
    _total(sums, m)
    return (*_top(*_small_svd(_merge_factors(*shares)[1].T), k, dtype), sums)


def _figures(chunks, s, Vt, sums, moments, m):
    """The figures of the fit from the moments of the columns of ``Z = X
    V_k``; ``‖X − X V_k V_kᵀ‖_F²`` summed from the residual itself (one more
    pass) only when too small for ``‖X‖² − ‖Z‖²`` to resolve."""
    import dask

    def residual():
        parts = [_lazy(projection_error)(x, _lazy(Vt)) for x in chunks]
        return dask.compute(_lazy(_add)(*_reduced(parts, _add)))[0]

    n, mean, squares = moments
    return combined_figures(
        squares / n,
        sums[0],
        s,
        total=_total(sums, m),
        kept=float(np.sum(squares) + n * np.sum(mean**2)),
        residual=residual,
    )
