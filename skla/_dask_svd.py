r"""Randomized SVD of a dask array, with every product with X on the cluster.

The range finder of Halko, Martinsson and Tropp, as
:class:`~skla._algorithms.randomized_svd.RangeFinder` runs it in memory, for
a dask array X (m × d) too wide for the exact route through its d × d R
factor (:func:`skla._dask.row_statistics`, d² numbers per chunk).  Every
product with X is a task on the worker that holds the row chunk:

- both half-steps of a power iteration are one task per chunk: ``y = x Z``
  (``l = k + p`` columns), its QR ``y = Q_i R_i``, and ``x_iᵀ Q_i``; merges
  up a tree finish the tall-skinny QR of Y and sum ``Xᵀ Q`` (d × l), and a
  task orthonormalises it into the next Z;
- the last such sum is ``Bᵀ = Xᵀ Q``, whose small SVD is a task; one more
  pass gives the column moments of ``X V_k`` for the figures.

A fit of rank k is one dask graph, computed once: one round trip, after
which the client holds ``V_k``, σ and a few sums.  X's chunks are computed
once per graph and held on the workers while it runs (as by
:func:`dask.array.linalg.svd_compressed`); they never reach the client.  A
fit to an energy fraction computes a graph per block of the basis (the
client decides whether to grow it), then one for the figures.

The test matrix, the oversampling and the number of power iterations are
those of the in-memory solver with the same ``random_state``, so the basis
spans what the in-memory fit's does, up to rounding: both renormalise
between half-steps (here by QR, there by LU; the span is the same).

dask is imported inside the functions: ``import skla`` does not import it.
"""

from __future__ import annotations

import uuid
from numbers import Integral
from typing import NamedTuple

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp
from sklearn.utils.extmath import svd_flip
from sklearn.utils.validation import check_array

from ._algorithms.randomized_svd import RangeFinder, generator
from ._algorithms.svd import energy_rank
from ._algorithms.svd_figures import Figures, combined_figures, projection_error
from ._dask import _check_rows

__all__ = [
    "AUTO_EXACT_MAX_FEATURES",
    "DaskSVD",
    "randomized_svd",
    "range_finder",
]

#: ``algorithm="auto"`` takes the exact R-factor route up to this many
#: features: one pass over X, each chunk's QR at BLAS-3 speed, d² numbers
#: per chunk (8 MB at 1024).  Its work grows as d² per row, the range
#: finder's as d·l per row and pass (11 passes for "auto").  Measured on a
#: 2-worker LocalCluster at k = 10: the exact route takes 0.3, 1.0, 2.9 and
#: 5.4 s on 8192 × d for d = 512, 1024, 1536, 2048, the range finder about
#: 1.1 s throughout; on 32768 × d, 1.25 against 1.8 s at d = 512 and 3.4
#: against 2.3 s at d = 1024.  Up to 1024 the exact answer costs at most
#: ~1.5× (less for larger ranks); beyond, the range finder wins more and
#: more.  (Measured before the range finder became one graph, 3× faster:
#: the crossover may now lie lower; the exact answer is worth some time.)
AUTO_EXACT_MAX_FEATURES = 1024

#: A side of at most this many is solved exactly, as in memory
#: (:func:`~skla._algorithms.svd.is_skinny`): few columns by the R factor,
#: few rows by a basis of the whole column space.
SMALL_SIDE = 200

#: The first block of basis vectors when growing to an energy fraction, as
#: in memory (``RangeFinder.svd_energy``).
ENERGY_BLOCK = 32


class DaskSVD(NamedTuple):
    """The top right singular vectors and values, and the fit's figures
    (the fields of :class:`~skla._algorithms.svd_figures.ExactSVD`)."""

    components: np.ndarray
    singular_values: np.ndarray
    figures: Figures


def range_finder(solver, n_features, algorithm):
    """The range finder of a built-in SVD solver on a dask array, or None
    for the exact route through X's R factor.

    Parameters
    ----------
    solver : object
        The resolved ``algorithm`` (a component of :mod:`skla.components.svd`).
    n_features : int
        X's number of columns, d.
    algorithm : str or object
        The estimator's parameter, named in the error.

    Returns
    -------
    RangeFinder or None
        None for ``"full"``, ``"arpack"`` and ``"propack"`` (they ask for the
        exact SVD), for ``"auto"`` with d at most
        :data:`AUTO_EXACT_MAX_FEATURES` and for any with d at most
        :data:`SMALL_SIDE`; else the in-memory solver's range finder
        (``"auto"``'s oversamples by the rank, as in memory).

    Raises
    ------
    ValueError
        For another solver: its ``svd`` would need X in memory.

    Examples
    --------
    >>> from skla.components.svd import AutoSVD, FullSVD
    >>> range_finder(FullSVD(), 10_000, "full") is None
    True
    >>> range_finder(AutoSVD(), 10_000, "auto")
    RangeFinder(n_oversamples=10, n_iter=4, oversample_rank=True)
    """
    from .components.svd import AutoSVD, FullSVD, RandomizedSVD
    from .components.svds import ArpackSVD, PropackSVD

    # Exact types: a subclass may override svd(), which this route ignores.
    kind = type(solver)
    if kind in (FullSVD, ArpackSVD, PropackSVD):
        return None
    if kind is AutoSVD:
        return solver._randomized() if n_features > AUTO_EXACT_MAX_FEATURES else None
    if kind is RandomizedSVD:
        if n_features <= SMALL_SIDE:
            return None
        return RangeFinder(solver.n_oversamples, solver.n_iter)
    raise ValueError(
        f"algorithm={algorithm!r} cannot fit a dask array: its svd() needs X "
        "in memory. On dask, TruncatedSVDCompressor runs 'auto' or "
        "'randomized' (a range finder on the cluster) or 'full', 'arpack', "
        "'propack' (the exact SVD of X's R factor); or compute X first."
    )


#: Parts that one task merges (a tree of merges for more chunks).
FAN_IN = 8


def _dense_chunk(block, dtype):
    """One validated chunk, dense (sparse chunks are densified one at a time)."""
    if sp.issparse(block):
        block = block.toarray()
    return check_array(block, dtype=dtype)


def _row_chunks(X):
    """X's whole, validated float row chunks (a list of delayed arrays)."""
    X = _check_rows(X)
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


def _rank_svd(chunks, shape, dtype, k, finder, rng):
    """``(V_kᵀ, σ, figures)`` of ``Q Qᵀ X`` at rank k: one graph."""
    import dask

    m, d = shape
    if k > min(m, d):
        raise ValueError(
            f"n_components={k} must be at most min(n_samples, n_features)"
            f" = {min(m, d)} (n_samples={m}, n_features={d})."
        )
    width = min(k + finder.oversampling(k), m, d)
    if min(m, d) <= SMALL_SIDE:
        width = min(m, d)  # a basis of the whole range: exact, as in memory
    n_iter = 0 if width == min(m, d) else finder.power_iterations((m, d), k)
    Z = _power_iterations(chunks, _test_matrix(rng, width, d, dtype), n_iter)
    top = _lazy(_top_of)(_shares(chunks, Z), _column_moments(chunks), m, k, dtype)
    (s, Vt, sums), moments = dask.compute(top, _column_moments(chunks, top[1]))
    return Vt, s, _figures(chunks, s, Vt, sums, moments, m)


def _energy_svd(chunks, shape, dtype, fraction, finder, rng):
    """``(V_kᵀ, σ, figures)`` of ``Q Qᵀ X`` for the fewest triplets holding
    ``fraction`` of ‖X‖_F².

    As :meth:`RangeFinder.svd_energy
    <skla._algorithms.randomized_svd.RangeFinder.svd_energy>`: the basis
    grows by :data:`ENERGY_BLOCK` columns, then twice as many each round
    (each round its own power iterations, one graph), until its top
    triplets hold the fraction with the oversampling to spare.
    """
    import dask

    m, d = shape
    limit = min(m, d)
    block = limit if limit <= SMALL_SIDE else ENERGY_BLOCK
    Q, B, sums = None, np.empty((0, d), dtype=dtype), None
    while True:
        width = min(block, limit - len(B))
        n_iter = finder.power_iterations((m, d), len(B) + width)
        if len(B) + width == limit:
            n_iter = 0  # the basis will span X's whole range
        new, part = _basis(chunks, _test_matrix(rng, width, d, dtype), n_iter, Q)
        if Q is not None:
            new = [_lazy(np.hstack)([a, b]) for a, b in zip(Q, new, strict=True)]
        # The basis stays on the workers for the next rounds to project out.
        first = [] if sums else [_column_moments(chunks)]
        Q, part, *first = dask.persist(new, part, *first)
        part, *first = dask.compute(part, *first)
        sums = _sums(first[0]) if first else sums
        total = _total(sums, m)  # before the SVD of a B with infinities
        B = np.vstack([B, part])
        s, Vt = _small_svd(B)
        k, enough = energy_rank(s, fraction * total)
        if (enough and len(B) >= k + finder.oversampling(k)) or len(B) >= limit:
            s, Vt = _top(s, Vt, k, dtype)
            moments = dask.compute(_column_moments(chunks, _lazy(Vt)))[0]
            return Vt, s, _figures(chunks, s, Vt, sums, moments, m)
        block *= 2


def randomized_svd(X, n_components, finder, random_state=None):
    """The top singular values and right vectors of a dask array X, by a
    randomized range finder whose products run on the cluster.

    Parameters
    ----------
    X : dask array of shape (m, d)
        Chunked by rows (columns are gathered into whole rows per chunk).
    n_components : int or float
        The rank k, or a fraction in (0, 1) of ‖X‖_F² to keep.
    finder : RangeFinder
        Oversampling and power iterations (see :func:`range_finder`).
    random_state : int, RandomState instance or None, default=None
        Seeds Ω as the in-memory solver does.

    Returns
    -------
    DaskSVD
        Components ``V_kᵀ`` (signs by :func:`~sklearn.utils.extmath.svd_flip`,
        ``u_based_decision=False``, as in memory) and singular values in X's
        dtype (float32 stays float32), and the fit's figures in float64.

    Raises
    ------
    ValueError
        For ``n_components`` above ``min(m, d)``, or X whose ‖X‖_F²
        overflows.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((600, 400)) * 0.8 ** np.arange(400)
    >>> fit = randomized_svd(da.from_array(A, chunks=(150, 100)), 3, RangeFinder())
    >>> s = np.linalg.svd(A, compute_uv=False)[:3]
    >>> bool(np.allclose(fit.singular_values, s, rtol=1e-10))
    True
    >>> fit.components.shape, round(fit.figures.reconstruction_error, 2)
    ((3, 400), 0.51)
    """
    chunks, dtype = _row_chunks(X)
    rng = generator(random_state)
    if isinstance(n_components, Integral):
        fit = _rank_svd(chunks, X.shape, dtype, int(n_components), finder, rng)
    else:
        fit = _energy_svd(chunks, X.shape, dtype, float(n_components), finder, rng)
    return DaskSVD(*fit)
