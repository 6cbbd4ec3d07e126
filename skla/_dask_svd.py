r"""Randomized SVD of a dask array, with every product with X on the cluster.

The range finder of Halko, Martinsson and Tropp, as
:class:`~skla._algorithms.randomized_svd.RangeFinder` runs it in memory, for
a dask array X (m × d) too wide for the exact route through its d × d R
factor (:func:`skla._dask.row_statistics`, d² numbers per chunk).  Every
product with X runs on the workers that hold X's row chunks:

- ``Y = X Ω`` and ``Y = X Z`` (m × l, ``l = k + p``): one l-column block
  per row chunk, kept on the workers and orthonormalised there by a
  tall-skinny QR;
- ``Xᵀ Q`` (d × l) and ``B = Qᵀ X`` (l × d): a product per chunk, summed in
  a tree; only the sum reaches the client.

The client holds the d × l matrices Ω and Z and the l × d matrix B, and takes
the small SVD of B; X's chunks never travel to it.  Passes over X: one for
``X Ω`` (X's column moments ride along), two per power iteration, one for B
and one for the figures of the fit.

The test matrix, the oversampling and the number of power iterations are
those of the in-memory solver with the same ``random_state``, so the basis
spans what the in-memory fit's does, up to rounding: both renormalise
between half-steps (here by QR, there by LU; the span is the same).

dask is imported inside the functions: ``import skla`` does not import it.
"""

from __future__ import annotations

from numbers import Integral
from typing import NamedTuple

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp
from sklearn.utils.extmath import svd_flip
from sklearn.utils.validation import check_array

from ._algorithms.randomized_svd import RangeFinder, _generator
from ._algorithms.svd import energy_rank
from ._algorithms.svd_figures import Figures, projection_error
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
#: more.
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
    from .components.svd import ArpackSVD, AutoSVD, FullSVD, PropackSVD, RandomizedSVD

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


def _dense_chunk(block, dtype):
    """One validated chunk, dense (sparse chunks are densified one at a time)."""
    if sp.issparse(block):
        block = block.toarray()
    return check_array(block, dtype=dtype)


def _whole_rows(X):
    """X as whole, validated float rows per chunk (lazy), and its dtype."""
    X = _check_rows(X)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    return X.map_blocks(_dense_chunk, dtype, dtype=dtype), np.dtype(dtype)


def _shared(M):
    """A small numpy array as a one-chunk dask array: one key, which the
    scheduler sends to each worker once (not once per task)."""
    import dask.array as da

    return da.from_array(M, chunks=M.shape)


def _dot(a, m):
    return a @ m


def _times(A, M):
    """``A M`` by A's row chunks, lazily: ``M`` is small (d × l or l × l)."""
    import dask.array as da

    dtype = np.result_type(A.dtype, M.dtype)
    return da.blockwise(
        _dot, "ij", A, "ik", _shared(M), "kj", dtype=dtype, concatenate=True
    )


def _cross_part(a, b):
    return (a.T @ b)[None]


def _cross(A, B):
    """``Aᵀ B`` for A and B chunked alike by rows: a product per chunk,
    summed in a tree on the workers; the client receives the sum."""
    import dask.array as da

    dtype = np.result_type(A.dtype, B.dtype)
    parts = da.blockwise(
        _cross_part,
        "ijk",
        A,
        "ij",
        B,
        "ik",
        dtype=dtype,
        adjust_chunks={"i": 1},
        concatenate=True,
    )
    return parts.sum(axis=0, dtype=dtype).compute()


def _orthonormal(Y, Q=None, also=()):
    """An orthonormal basis of span(Y) on the workers (orthogonal to Q's if
    given), and the dask collections ``also`` computed in the same pass.

    dask's tall-skinny QR (:func:`dask.array.linalg.tsqr`): Householder per
    chunk, then of the stacked l × l R factors (recursively, so no task
    holds more than a chunk's worth), all on the workers in one graph.  A
    Cholesky QR would need one reduction fewer, but it squares the
    condition number of Y, which the power iterations make huge.
    """
    import dask
    import dask.array as da

    if Q is not None:
        # Y − Q Qᵀ Y twice: classical Gram–Schmidt needs the second pass.
        Y, *also = dask.persist(Y, *also)
        for _ in range(2):
            Y = (Y - _times(Q, _cross(Q, Y))).persist()
    basis, *also = dask.persist(da.linalg.tsqr(Y)[0], *also)
    return basis, dask.compute(*also)


def _basis(X, omega, n_iter, Q=None, also=()):
    """An orthonormal basis for the range of ``(X Xᵀ)^q X Ω`` (orthogonal to
    Q), as :meth:`RangeFinder.basis
    <skla._algorithms.randomized_svd.RangeFinder.basis>`: each power
    iteration is two passes over X, ``Xᵀ Y`` (tree-summed, orthonormalised
    on the client) and ``X Z`` (on the workers).  The dask collections
    ``also`` are computed in the first pass over X, and returned."""
    Y, computed = _times(X, omega), None
    for _ in range(n_iter):
        Y, first = _orthonormal(Y, Q, also if computed is None else ())
        computed = first if computed is None else computed
        Z = sl.qr(_cross(X, Y), mode="economic", check_finite=False)[0]
        Y = _times(X, Z.astype(X.dtype, copy=False))
    basis, first = _orthonormal(Y, Q, also if computed is None else ())
    return basis, first if computed is None else computed


def _test_matrix(rng, width, d, dtype):
    """Ω (d × width), drawn as the in-memory range finder draws it."""
    return rng.standard_normal((width, d)).astype(dtype, copy=False).T


def _moments(X):
    """X's column means and variances in float64, lazily (stable merges)."""
    return X.mean(axis=0, dtype=np.float64), X.var(axis=0, dtype=np.float64)


def _small_svd(B):
    """Singular values and right vectors of the l × d matrix B = Qᵀ X."""
    _, s, Vt = sl.svd(B, full_matrices=False, check_finite=False)
    return s, Vt


def _rank_svd(X, k, finder, rng):
    """The top k values and right vectors of ``Q Qᵀ X`` with the moments."""
    m, d = X.shape
    if k > min(m, d):
        raise ValueError(
            f"n_components={k} must be at most min(n_samples, n_features)"
            f" = {min(m, d)} (n_samples={m}, n_features={d})."
        )
    width = min(k + finder.oversampling(k), m, d)
    if min(m, d) <= SMALL_SIDE:
        width = min(m, d)  # a basis of the whole range: exact, as in memory
    n_iter = 0 if width == min(m, d) else finder.power_iterations((m, d), k)
    omega = _test_matrix(rng, width, d, X.dtype)
    Q, moments = _basis(X, omega, n_iter, also=_moments(X))
    _total(moments, m)  # before the SVD of a B that would hold infinities
    s, Vt = _small_svd(_cross(Q, X))
    return s[:k], Vt[:k], moments


def _energy_svd(X, fraction, finder, rng):
    """The fewest top values and right vectors of ``Q Qᵀ X`` holding
    ``fraction`` of ‖X‖_F², with the moments.

    As :meth:`RangeFinder.svd_energy
    <skla._algorithms.randomized_svd.RangeFinder.svd_energy>`: the basis
    grows by :data:`ENERGY_BLOCK` columns, then twice as many each round
    (each round its own power iterations, on the cluster), until its top
    triplets hold the fraction with the oversampling to spare.
    """
    import dask
    import dask.array as da

    m, d = X.shape
    limit = min(m, d)
    block = limit if limit <= SMALL_SIDE else ENERGY_BLOCK
    Q, B, also, total = None, np.empty((0, d), dtype=X.dtype), _moments(X), None
    while True:
        have = 0 if Q is None else Q.shape[1]
        width = min(block, limit - have)
        n_iter = finder.power_iterations((m, d), have + width)
        if have + width == limit:
            n_iter = 0  # the basis will span X's whole range
        omega = _test_matrix(rng, width, d, X.dtype)
        new, computed = _basis(X, omega, n_iter, Q, also)
        if total is None:
            moments, also, total = computed, (), _total(computed, m)
        B = np.vstack([B, _cross(new, X)])
        if Q is not None:
            new = da.concatenate([Q, new], axis=1).rechunk({1: -1})
        Q = dask.persist(new)[0]
        s, Vt = _small_svd(B)
        k, enough = energy_rank(s, fraction * total)
        if (enough and Q.shape[1] >= k + finder.oversampling(k)) or Q.shape[1] >= limit:
            return s[:k], Vt[:k], moments
        block *= 2


def _energy(mean, variance):
    """``‖X‖_F² / m`` from column moments: a sum of non-negative terms."""
    return float(np.sum(variance) + np.sum(mean**2))


def _total(moments, m):
    """``‖X‖_F²`` from the column moments, or a ValueError if it overflows."""
    total = m * _energy(*moments)
    if not np.isfinite(total):
        raise ValueError(
            "‖X‖² overflows the floating-point range: rescale X (e.g. by a "
            "power of two) before fitting it on dask."
        )
    return total


def _residual_part(x, Vt):
    return np.array([projection_error(x, Vt)])


def _figures(X, s, Vt, moments):
    """The figures of the fit on the training data, in one more pass: the
    variance of each column of ``X V_k``, and ``‖X − X V_k V_kᵀ‖_F``
    summed from the residual itself (no cancellation)."""
    import dask
    import dask.array as da

    total, total_variance = _total(moments, X.shape[0]), float(np.sum(moments[1]))
    residual = da.blockwise(
        _residual_part,
        "i",
        X,
        "ij",
        _shared(Vt),
        "kj",
        dtype=np.float64,
        adjust_chunks={"i": 1},
        concatenate=True,
    ).sum()
    coordinates = _times(X, Vt.T)
    explained, lost = dask.compute(coordinates.var(axis=0, dtype=np.float64), residual)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = explained / total_variance
        energy = np.asarray(s, dtype=np.float64) ** 2
        energy_ratio = energy / total if total > 0 else energy * 0
    error = float(np.sqrt(lost / total)) if total > 0 else 0.0
    return Figures(explained, ratio, energy_ratio, error)


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
    import dask

    X, dtype = _whole_rows(X)
    rng = _generator(random_state)
    # Every pass is its own graph over X's chunks, submitted while the last
    # one's results (kept on the workers) still hold X's keys as lineage.
    # Linear fusion would give the same key another task in a graph where
    # it has one consumer instead of several: distributed warns that this
    # can deadlock.  Without it each key keeps one definition.
    with dask.config.set({"optimization.fuse.active": False}):
        if isinstance(n_components, Integral):
            s, Vt, moments = _rank_svd(X, int(n_components), finder, rng)
        else:
            s, Vt, moments = _energy_svd(X, float(n_components), finder, rng)
        _, Vt = svd_flip(None, np.array(Vt, dtype=dtype), u_based_decision=False)
        return DaskSVD(Vt, s.astype(dtype), _figures(X, s, Vt, moments))
