"""GDRegressor's objective for any loss on dask arrays: one map-reduce per point.

The squared loss needs only the row statistics (one pass; see
:mod:`skla._dask`).  Any other loss needs the rows at every iteration, so
the validated chunks are persisted on the workers once and each point θ
the solver asks about costs one map-reduce: every chunk computes its
predictions, its share of the loss and of the gradient ``Xᵀ ∂ℓ`` where it
lives, and only ``(d + 1) × k`` numbers per chunk travel back to the
client.  The solver (:func:`~skla._algorithms.fista.proximal_gradient`) runs
on the client, unchanged: :class:`ChunkedLossObjective` is one more
objective for it.

The curvatures, the Lipschitz constant and the constant columns come from
the scatter matrix and ranges of one :class:`RowStatistics` pass, so no
power iteration runs over the cluster.
"""

from __future__ import annotations

import functools

import numpy as np
from sklearn.utils.validation import check_array

from ._algorithms._linalg import power_iteration
from ._data import centred_dot, centred_tdot

__all__ = ["ChunkedLossObjective", "chunked_form"]


def chunked_form(loss, name):
    """``(core, combine)`` of a loss that chunks can add up, or an error.

    ``core`` is the separable loss the chunks evaluate; ``combine`` turns
    its per-target totals into ``(value, factors)``, the loss and the
    per-target factors of its gradient (see
    :class:`~skla.components.losses.Loss`).
    """
    if getattr(loss, "separable", False):
        return loss, lambda c: (float(np.sum(c)), np.ones(len(c)))
    core = getattr(loss, "core", None)
    if core is not None and hasattr(loss, "combine"):
        if not getattr(core, "separable", False):
            raise ValueError(f"loss={name!r}: its core loss is not separable.")
        return core, loss.combine
    raise ValueError(
        f"GDRegressor.fit on dask arrays cannot add up loss={name!r} over "
        "chunks: a loss must declare `separable = True` (a sum of one term "
        "per row) or give `core` and `combine` (see skla.components.losses.Loss)."
    )


def _block(X, Y, w):
    """One chunk validated where it lives: float X, 2-D float64 Y, weights."""
    X = check_array(X, dtype=(np.float64, np.float32), accept_sparse=("csr", "csc"))
    Y = check_array(np.reshape(Y, (len(Y), -1)), dtype=np.float64, input_name="y")
    if w is not None:
        w = check_array(
            w, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
        )
    return X, Y, w


def _value_gradient(block, theta, core, offset, total_weight, fit_intercept):
    """Per-target core totals and the core gradient ``[Aᵀ G; Σ G]`` of a chunk."""
    X, Y, w = block
    d = X.shape[1]
    P = centred_dot(X, theta[:d], offset)
    if fit_intercept:
        P += theta[d]
    v = np.full(len(Y), 1.0 / total_weight) if w is None else w / total_weight
    totals = np.array([core.value(Y[:, [t]], P[:, [t]], v) for t in range(Y.shape[1])])
    G = np.asarray(core.gradient(Y, P, v), dtype=np.float64)
    gradient = centred_tdot(X, G, offset)
    if fit_intercept:
        gradient = np.vstack([gradient, G.sum(axis=0)])
    return totals, gradient


def _add(a, b):
    return a[0] + b[0], a[1] + b[1]


def _sum(*parts):
    return functools.reduce(_add, parts)


def _grouped(parts, size=64):
    """At most ``size`` parts, each the sum of a group (on a worker).

    The client gathers the parts themselves (``(d + 1) × k`` numbers each):
    one hop, where a tree of sums on the workers costs a hop per level --
    twice the time of a round trip with 4 chunks on a LocalCluster.
    """
    import dask

    if len(parts) <= size:
        return parts
    add = dask.delayed(_sum, pure=True)
    return [add(*parts[i : i + size]) for i in range(0, len(parts), size)]


class ChunkedLossObjective:
    """``f(θ) = loss(Y, (X - μ)β + c)`` over persisted dask chunks.

    The objective protocol of :mod:`skla._algorithms.objectives` with
    ``M = I``: :meth:`forward` hands θ itself to :meth:`value` and
    :meth:`gradient`, which evaluate both in one map-reduce and keep the
    last point's results (the solver asks for the value, then the gradient,
    at each extrapolated point: one pass serves both).

    Parameters
    ----------
    blocks : list of dask.delayed
        The persisted ``(X, Y, w)`` chunks (see :func:`persist_blocks`).
    loss : object
        The loss component; ``name`` is its parameter value, for messages.
    statistics : RowStatistics
        Of the same rows, with ``gram=True`` and ``ranges=True``.
    fit_intercept : bool
    dtype : dtype
        X's, whose rounding decides which columns are constant.
    """

    cancelled = 0.0  # the value is a sum of non-negative terms

    def __init__(self, blocks, loss, name, statistics, fit_intercept, dtype):
        import dask

        self._blocks = blocks
        self._core, self._combine = chunked_form(loss, name)
        self._delayed = dask.delayed(_value_gradient, pure=True)
        d = statistics.n_features
        quadratic = statistics.quadratic_objective(dtype)
        self._H = quadratic.H  # (weighted, centred) AᵀA / W: curvature
        self._constant = quadratic.constant_columns()
        self._offset = statistics.mean[:d] if statistics.centred else None
        self._weight = statistics.weight
        self.fit_intercept = fit_intercept
        self.n_penalized = d
        self._last = None  # (θ, value, gradient) of the last point evaluated

    def forward(self, theta):
        """θ itself: the cluster applies X inside :meth:`value`."""
        return np.array(theta, dtype=np.float64)

    def _evaluate(self, theta):
        import dask

        if self._last is not None and np.array_equal(self._last[0], theta):
            return self._last[1:]
        point = dask.delayed(np.array(theta, dtype=np.float64))  # sent once
        parts = [
            self._delayed(
                block,
                point,
                self._core,
                self._offset,
                self._weight,
                self.fit_intercept,
            )
            for block in self._blocks
        ]
        totals, gradient = functools.reduce(_add, dask.compute(*_grouped(parts)))
        value, factors = self._combine(totals)
        self._last = (np.array(theta), value, gradient * factors[None, :])
        return self._last[1:]

    def value(self, theta, _):
        return self._evaluate(theta)[0]

    def gradient(self, theta, _):
        return self._evaluate(theta)[1]

    def excess(self, diff, _, f_z, g_z, f_new):
        """``f(z + d) - f(z) - ∇f(z)ᵀd`` from the values."""
        return f_new - f_z - float(np.sum(g_z * diff))

    def curvature(self):
        c = np.diag(self._H).copy()
        return np.append(c, 1.0) if self.fit_intercept else c

    def constant_columns(self):
        return self._constant

    def lipschitz(self, scale):
        """Largest eigenvalue of the scaled ``AᵀVA``, by the power iteration
        the in-memory objective runs (on X there), here on the d×d matrix:
        the same estimate, so the same steps and iterates as numpy's fit."""
        d = self.n_penalized
        root = np.sqrt(scale[:d])
        lam = power_iteration(lambda u: root * (self._H @ (root * u)), d, n_iter=20)
        # The intercept's block is 1 (times its scale) and decoupled.
        return max(lam, float(scale[d])) if self.fit_intercept else lam


def persist_blocks(X, y, sample_weight):
    """The validated ``(X, Y, w)`` chunks of dask arrays, persisted where
    they are computed (on the workers under a ``distributed.Client``)."""
    import dask

    from ._dask import row_blocks

    block = dask.delayed(_block, pure=True)
    blocks = [block(*parts) for parts in row_blocks(X, y, sample_weight)]
    return list(dask.persist(*blocks))
