"""GDRegressor's objective for any loss on dask arrays: one map-reduce per point.

The squared loss needs only the row statistics (one pass; see
:mod:`.rows`).  Any other loss needs the rows at every iteration, so
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

from ..._algorithms._linalg import power_iteration
from ..._data import centred_dot, centred_tdot
from .rows import ChunkFailure, raise_failure, row_blocks, validated_chunk

__all__ = [
    "ChunkedLossObjective",
    "ChunkedRows",
    "chunked_form",
    "persist_blocks",
    "validate_block",
    "validated_blocks",
]


def chunked_form(loss, name):
    """``(core, combine)`` of a loss that chunks can add up, or an error.

    ``core`` is the separable loss the chunks evaluate; ``combine`` turns
    its totals into ``(value, factors)``, the loss and the factors of its
    gradient (see :class:`~skla.components.losses.Loss`).  A separable
    loss's total is one number (a row's term may couple its targets); a
    ``core`` of a ``combine`` is totalled per target.
    """
    if getattr(loss, "separable", False):
        return loss, lambda c: (float(np.sum(c)), 1.0)
    core = getattr(loss, "core", None)
    if core is not None and hasattr(loss, "combine"):
        if not getattr(core, "separable", False):
            raise ValueError(f"loss={name!r}: its core loss is not separable.")
        return core, loss.combine
    raise ValueError(
        f"A fit on dask arrays cannot add up loss={name!r} over "
        "chunks: a loss must declare `separable = True` (a sum of one term "
        "per row) or give `core` and `combine` (see skla.components.losses.Loss)."
    )


def validate_block(X, Y, w, where):
    """One chunk validated where it lives; Y and w in float64, the loss's
    (a :class:`~.rows.ChunkFailure` for invalid rows)."""
    try:
        return validated_chunk(X, Y, w, dtype=np.float64, where=where)
    except ValueError as error:
        return ChunkFailure(ValueError, str(error))


def _loss_pass(block, point, core, per_target, divisor, offset, scale, gradient):
    """Per-target core totals and, with ``gradient``, the core gradient
    ``[Aᵀ G, Σ G]`` of one chunk, at ``point = (coef, intercept)``.

    ``A = scale · X - 1 offsetᵀ`` (``offset`` None: no centring; ``scale``
    a power of two, exact); ``coef`` None predicts the intercept alone.
    """
    if isinstance(block, ChunkFailure):
        return block
    X, Y, w = block
    coef, intercept = point
    P = np.zeros_like(Y)
    if coef is not None:  # (scale·X - 1 offsetᵀ) coef, as centred_dot
        P = centred_dot(X, coef * scale, None)
        if offset is not None:
            P -= offset @ coef
    if intercept is not None:
        P += intercept
    v = np.full(len(Y), 1.0 / divisor) if w is None else w / divisor
    if per_target:  # for a combine: its core, one target at a time
        totals = np.array(
            [core.value(Y[:, [t]], P[:, [t]], v) for t in range(Y.shape[1])]
        )
    else:
        totals = np.array([core.value(Y, P, v)])
    if not gradient:
        return totals, 0.0, 0.0
    G = np.asarray(core.gradient(Y, P, v), dtype=np.float64)
    grad = centred_tdot(X, G, None) * scale
    if offset is not None:
        grad -= np.multiply.outer(offset, G.sum(axis=0))
    return totals, grad, G.sum(axis=0)


def _add(a, b):
    for part in (a, b):
        if isinstance(part, ChunkFailure):
            return part
    return tuple(x + y for x, y in zip(a, b, strict=True))


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


class ChunkedRows:
    """Full passes of a loss over the rows of dask chunks: map-reduces.

    The chunks are ``(X, Y, w)`` blocks (see :func:`row_blocks`), persisted
    or not; each pass computes every chunk's share where it lives and the
    client adds up ``(d + 1) × k`` numbers per chunk.

    Parameters
    ----------
    blocks : list of dask.delayed
    total_weight : float
        ``Σ w`` over all rows (the number of rows without weights).
    scale : float, default=1.0
        The rows are those of ``scale · X`` (SGD's ``x_scale``).
    divisor : float or None, default=None
        The loss is ``Σ wᵢ ℓᵢ / divisor``: ``total_weight`` if None
        (GDRegressor's objective, as Lasso's), the number of rows for
        SGDMiniBatchRegressor's (as SGDRegressor's).
    """

    def __init__(self, blocks, total_weight, scale=1.0, *, divisor=None):
        self.blocks = blocks
        self.total_weight = float(total_weight)
        self.scale = float(scale)
        self.divisor = self.total_weight if divisor is None else float(divisor)

    def loss(self, loss, coef, intercept, *, gradient=True, offset=None, name=None):
        """``Σ wᵢ ℓᵢ / divisor`` over all rows of ``(scale·X - offset) coef
        + intercept`` and, with ``gradient``, its gradient with respect to
        ``coef`` and ``intercept``: ``(value, grad, grad_b)``.

        ``name`` is the loss's parameter value, for the error a loss that
        does not add up over chunks gets (see :func:`chunked_form`).
        """
        import dask

        core, combine = chunked_form(loss, name if name is not None else loss)
        per_target = core is not loss
        point = dask.delayed((coef, intercept))  # sent once
        chunk = dask.delayed(_loss_pass, pure=True)
        parts = [
            chunk(
                b,
                point,
                core,
                per_target,
                self.divisor,
                offset,
                self.scale,
                gradient,
            )
            for b in self.blocks
        ]
        total = functools.reduce(_add, dask.compute(*_grouped(parts)))
        totals, grad, grad_b = raise_failure(total)
        value, factors = combine(totals)  # factors: per target, or 1.0
        if not gradient:
            return value, None, None
        return value, grad * factors, grad_b * factors

    def mean_y(self):
        """The weighted mean of Y (one pass, loss-free)."""
        import dask

        parts = [dask.delayed(_weighted_y_sum, pure=True)(b) for b in self.blocks]
        sums = [raise_failure(part) for part in dask.compute(*parts)]
        return functools.reduce(np.add, sums) / self.total_weight

    def head(self, n_rows):
        """The first rows of X (up to ``n_rows``, of the first chunk, times
        ``scale``) and their weights."""
        X, _, w = raise_failure(self.blocks[0].compute())
        X = X[:n_rows] * self.scale
        return X, None if w is None else w[:n_rows]


def _weighted_y_sum(block):
    if isinstance(block, ChunkFailure):
        return block
    _, Y, w = block
    return Y.sum(axis=0) if w is None else w @ Y


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
        self._rows = ChunkedRows(blocks, statistics.weight)
        self._loss, self._name = loss, name
        d = statistics.n_features
        quadratic = statistics.quadratic_objective(dtype)
        self._H = quadratic.H  # (weighted, centred) AᵀA / W: curvature
        self._constant = quadratic.constant_columns()
        self._offset = statistics.mean[:d] if statistics.centred else None
        self.fit_intercept = fit_intercept
        self.n_penalized = d
        self._last = None  # (θ, value, gradient) of the last point evaluated

    def forward(self, theta):
        """θ itself: the cluster applies X inside :meth:`value`."""
        return np.array(theta, dtype=np.float64)

    def _evaluate(self, theta):
        if self._last is not None and np.array_equal(self._last[0], theta):
            return self._last[1:]
        d = self.n_penalized
        intercept = theta[d] if self.fit_intercept else None
        value, grad, grad_b = self._rows.loss(
            self._loss, theta[:d], intercept, offset=self._offset, name=self._name
        )
        if self.fit_intercept:
            grad = np.vstack([grad, grad_b])
        self._last = (np.array(theta), value, grad)
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


def validated_blocks(X, y, sample_weight):
    """The ``(X, Y, w)`` chunks of dask arrays, each validated where it is
    computed (delayed)."""
    import dask

    block = dask.delayed(validate_block, pure=True)
    return [block(*parts) for parts in row_blocks(X, y, sample_weight)]


def persist_blocks(X, y, sample_weight):
    """:func:`validated_blocks`, persisted where they are computed (on the
    workers under a ``distributed.Client``)."""
    import dask

    return list(dask.persist(*validated_blocks(X, y, sample_weight)))
