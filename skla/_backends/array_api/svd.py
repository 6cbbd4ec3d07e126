"""TruncatedSVDCompressor on arrays of an array-API namespace (torch, cupy...).

The products with X run in X's namespace, on its device; only small
matrices (``l × d``, ``k × d``) come to numpy, where their SVD is taken
(see :mod:`.namespace`).  The route follows the in-memory one:

- exact -- ``"full"``, ``"arpack"``, ``"propack"``, and ``"auto"`` where
  it is exact in memory (a side of at most 200, or a rank above a quarter
  of the smaller side): ``xp.linalg.svd`` of X on the device;
- randomized -- ``"randomized"``, and ``"auto"`` otherwise: the range
  finder of Halko, Martinsson and Tropp with the in-memory solver's test
  matrix (same ``random_state``, same Ω), oversampling and power
  iterations, orthonormalised by ``xp.linalg.qr``.  An energy fraction
  doubles the basis until its top triplets hold the fraction with the
  oversampling to spare.

The figures (variances, energy, error) are reduced on the device too.
"""

from __future__ import annotations

from numbers import Integral
from typing import NamedTuple

import numpy as np
import scipy.linalg as sl
from sklearn.utils.extmath import svd_flip

from ..._algorithms.randomized_svd import RangeFinder, generator
from ..._algorithms.svd import energy_rank
from ..._algorithms.svd_figures import Figures, combined_figures
from .namespace import unsupported

__all__ = ["NamespaceSVD", "namespace_svd", "route"]

SMALL_SIDE = 200  # as AutoSVD: a side this small is solved exactly
ENERGY_BLOCK = 32  # the first basis of an energy fraction, as in memory


class NamespaceSVD(NamedTuple):
    """Components (numpy, k × d), singular values (numpy), the coordinates
    ``Z = X V_k`` (on the device) and the figures."""

    components: np.ndarray
    singular_values: np.ndarray
    Z: object
    figures: Figures


def route(solver, shape, n_components, ns):
    """None for the exact route, else the :class:`RangeFinder` to run;
    an error naming a solver without an array-API route."""
    from ...components.svd import AutoSVD, FullSVD, RandomizedSVD
    from ...components.svds import ArpackSVD, PropackSVD

    kind, side = type(solver), min(shape)
    if kind in (FullSVD, ArpackSVD, PropackSVD):
        return None
    if kind is AutoSVD:
        rank = isinstance(n_components, Integral)
        if side <= SMALL_SIDE or (rank and 4 * n_components > side):
            return None
        return solver._randomized()
    if kind is RandomizedSVD:
        return (
            None
            if side <= SMALL_SIDE
            else RangeFinder(solver.n_oversamples, solver.n_iter)
        )
    raise unsupported(f"TruncatedSVDCompressor(algorithm={solver!r})", ns)


def _orthonormal(xp, Y):
    return xp.linalg.qr(Y)[0]


def _basis(ns, X, width, n_iter, rng):
    """An orthonormal basis (on the device) for the range of
    ``(X Xᵀ)^q X Ω``, Ω drawn as the in-memory range finder draws it."""
    xp = ns.xp
    dtype = np.float32 if X.dtype == xp.float32 else np.float64
    omega = rng.standard_normal((width, X.shape[1])).astype(dtype, copy=False).T
    Q = _orthonormal(xp, X @ ns.asarray(np.ascontiguousarray(omega)))
    for _ in range(n_iter):
        Q = _orthonormal(xp, X @ _orthonormal(xp, X.T @ Q))
    return Q


def _small_svd(ns, X, Q):
    """The singular values and right vectors of ``Q Qᵀ X``: those of the
    small ``B = Qᵀ X`` (l × d, in numpy)."""
    B = ns.to_numpy(Q.T @ X).astype(np.float64)
    return sl.svd(B, full_matrices=False, check_finite=False)[1:]


def _randomized(ns, X, n_components, finder, random_state, total):
    """``(s, Vt)`` of the range finder's approximation (no left vectors:
    the coordinates are ``X V_k``)."""
    m, d = X.shape
    rng, limit = generator(random_state), min(m, d)
    if isinstance(n_components, Integral):
        k = int(n_components)
        width = min(k + finder.oversampling(k), limit)
        Q = _basis(ns, X, width, finder.power_iterations((m, d), k), rng)
        s, Vt = _small_svd(ns, X, Q)
    else:
        width = ENERGY_BLOCK
        while True:
            width = min(width, limit)
            n_iter = 0 if width == limit else finder.power_iterations((m, d), width)
            Q = _basis(ns, X, width, n_iter, rng)
            s, Vt = _small_svd(ns, X, Q)
            k, enough = energy_rank(s, n_components * total)
            if (enough and width >= k + finder.oversampling(k)) or width == limit:
                break
            width *= 2
    return s[:k], Vt[:k]


def _exact(ns, X, n_components, total):
    """``(s, Vt)`` of X's SVD on the device."""
    _, s, Vt = ns.xp.linalg.svd(X, full_matrices=False)
    s, Vt = (ns.to_numpy(a).astype(np.float64) for a in (s, Vt))
    k = n_components
    if not isinstance(n_components, Integral):
        k = energy_rank(s, n_components * total)[0]
    return s[:k], Vt[:k]


def _residual(xp, X, V):
    """``‖X − X V Vᵀ‖_F²`` from the residual itself (no cancellation)."""
    return float(xp.linalg.vector_norm(X - (X @ V) @ V.T)) ** 2


def namespace_svd(ns, X, n_components, solver, random_state):
    """The truncated SVD of namespace array X, its coordinates and figures.

    Components take scikit-learn's signs (``svd_flip`` on ``V``, as in
    memory); components and singular values are in X's dtype.
    """
    xp = ns.xp
    m, d = X.shape
    if isinstance(n_components, Integral) and n_components > min(m, d):
        raise ValueError(
            f"n_components={n_components} must be at most min(n_samples, "
            f"n_features) = {min(m, d)}."
        )
    # Sums of X's squares and variances in float64 where the device has it
    # (as in memory): a float32 variance of a column far from 0 cancels.
    X_sums = xp.astype(X, ns.accumulate, copy=False)
    total = float(xp.linalg.vector_norm(X_sums)) ** 2
    finder = route(solver, X.shape, n_components, ns)
    if finder is None:
        s, Vt = _exact(ns, X, n_components, total)
    else:
        s, Vt = _randomized(ns, X, n_components, finder, random_state, total)
    dtype = np.float32 if X.dtype == xp.float32 else np.float64
    components = np.asarray(svd_flip(None, Vt, u_based_decision=False)[1], dtype)
    V = ns.asarray(np.ascontiguousarray(components.T))
    # The coordinates X V_k, computed as transform computes them (so
    # fit_transform equals fit + transform exactly): U_k Σ_k differs from
    # them for an approximate basis.
    Z = X @ xp.astype(ns.asarray(components), X.dtype).T
    Z_sums = xp.astype(Z, ns.accumulate, copy=False)
    V_sums = xp.astype(V, ns.accumulate, copy=False)
    figures = combined_figures(
        ns.to_numpy(xp.var(Z_sums, axis=0)),
        float(xp.sum(xp.var(X_sums, axis=0))),
        s,
        total=total,
        kept=float(xp.linalg.vector_norm(Z_sums)) ** 2,
        residual=lambda: _residual(xp, X_sums, V_sums),
    )
    return NamespaceSVD(components, s.astype(dtype), Z, figures)
