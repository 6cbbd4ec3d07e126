r"""Randomized SVD of a dask array, with every product with X on the cluster.

The range finder of Halko, Martinsson and Tropp, as
:class:`~skla._algorithms.randomized_svd.RangeFinder` runs it in memory, for
a dask array X (m × d) too wide for the exact route through its d × d R
factor (:func:`.rows.row_statistics`, d² numbers per chunk).  Every
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

from numbers import Integral
from typing import NamedTuple

import numpy as np

from ..._algorithms.randomized_svd import RangeFinder, generator
from ..._algorithms.svd import energy_rank
from ..._algorithms.svd_figures import Figures
from .products import (
    _basis,
    _column_moments,
    _figures,
    _lazy,
    _power_iterations,
    _row_chunks,
    _shares,
    _small_svd,
    _sums,
    _test_matrix,
    _top,
    _top_of,
    _total,
)

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
    from ...components.svd import AutoSVD, FullSVD, RandomizedSVD
    from ...components.svds import ArpackSVD, PropackSVD

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
