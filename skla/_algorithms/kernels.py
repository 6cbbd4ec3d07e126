r"""The updates of one window of mini-batches: the inner loop of SGD.

One update, for a mini-batch :math:`b` of rows with weights :math:`w_i`:

.. math::

    G = \nabla_P L(Y_b, X_b\beta + 1 b^\top), \qquad
    \beta \leftarrow \operatorname{prox}_{\eta\alpha R}(\beta - \eta X_b^\top G),
    \qquad b \leftarrow b - \eta\, G^\top 1,

where the loss's gradient is taken with weights :math:`w_i / |b|`.
**The fast path.** For the squared loss on dense X with one target and a
penalty that is a pure scaling (ridge, or none) -- the common case -- an
update is two BLAS calls (``gemv``) and a sum: the forward pass writes the
residual into a buffer that already holds the targets, and the proximal
scaling is folded into the ``gemv`` of the gradient step.  Every other
combination (any loss or penalty, sparse X, several targets) goes through
the components' ``gradient`` and ``prox`` methods.

Both kernels read and update the state of a
:class:`~skla._algorithms.minibatch.MiniBatchSGD` (``engine``) and return the
window's weighted mean loss, each sample's loss taken at the coefficients
before the update that used it.
"""

from __future__ import annotations

from functools import cache
from itertools import repeat

import numpy as np
import scipy.sparse as sp
from scipy.linalg import get_blas_funcs
from sklearn.utils.extmath import safe_sparse_dot

from .._data import batch_weights, centred_dot, centred_tdot
from . import compiled
from .windows import batches

__all__ = ["generic_window", "squared_window"]


@cache
def _gemv(dtype):
    return get_blas_funcs("gemv", dtype=dtype)


def _fused_factors(engine, etas, n_rows, dtype):
    """Per-batch factors of the fast path's two BLAS calls.

    Returns the gradient gemv's factor ``-η c / |batch|`` (``c`` the
    ridge's shrinkage, unless it is per coefficient), the shrinkage
    (per batch, or per batch and coefficient), the intercept's
    ``η / |batch|`` (None without an intercept), all as arrays, and
    whether the shrinkage is per coefficient.
    """
    B = engine.batch_size
    per_coefficient = engine.penalty is not None and engine.standard is not None
    if engine.penalty is None:
        scales = np.ones_like(etas)
    elif per_coefficient:
        # In scaled coordinates the ridge shrinks each coefficient by its
        # own factor 1 / (1 + eta·alpha / scale_j²): applied after the gemv.
        scales = engine.standard.shrink(engine.penalty, etas * engine.alpha)
        scales = scales.astype(dtype)
    else:
        scales = np.broadcast_to(engine.penalty.shrink(etas * engine.alpha), etas.shape)
    sizes = np.full(len(etas), B, dtype=np.float64)
    sizes[-1] = n_rows - B * (len(etas) - 1)
    steps = -etas / sizes if per_coefficient else -etas * scales / sizes
    intercept_steps = etas / sizes if engine.fit_intercept else None
    return steps, scales, intercept_steps, per_coefficient


def squared_window(engine, Xw, yw, ww, etas, rows=None):
    """The fast path: squared loss, dense X, one target, ridge or none.

    The updates run compiled where numba is installed (see
    :mod:`.compiled`), else as two BLAS calls per batch.  With ``rows``,
    ``Xw`` is all of X and the window is its rows ``rows``.
    """
    n_rows = yw.shape[0]
    factors = _fused_factors(engine, etas, n_rows, Xw.dtype)
    average_from = engine.averaging_from(len(etas), n_rows)
    residual = np.negative(yw)  # becomes p - y, batch by batch
    arguments = (engine, Xw, residual, ww, factors, average_from)
    if not compiled.squared_updates(*arguments, rows=rows):
        if rows is not None:
            Xw = Xw[rows]
        _blas_updates(engine, Xw, residual, ww, factors, average_from)
    engine.n_seen += n_rows
    # einsum, not numpy's BLAS: a dot of a window's length wakes numpy's
    # thread pool, which then spins against the next window's scipy gemv.
    if ww is None:
        return 0.5 * float(np.einsum("i,i->", residual, residual)) / n_rows
    total = float(ww.sum())
    if not total > 0:
        return 0.0
    return 0.5 * float(np.einsum("i,i,i->", residual, residual, ww)) / total


def _blas_updates(engine, Xw, residual, ww, factors, average_from):
    """The fast path's updates as two ``gemv`` calls and a sum per batch."""
    B = engine.batch_size
    gemv = _gemv(Xw.dtype)
    coef = np.ascontiguousarray(engine.coef[:, 0])  # a view: coef is (d, 1)
    b = engine.intercept.dtype.type(engine.intercept[0])
    steps, scales, intercept_steps, per_coefficient = factors
    steps = steps.tolist()
    if not per_coefficient:
        scales = scales.tolist()
    if intercept_steps is not None:
        intercept_steps = intercept_steps.tolist()
    work = zip(
        batches(Xw, B, transpose=True),
        batches(residual, B),
        batches(ww, B) if ww is not None else repeat(None, len(steps)),
        steps,
        scales,
        intercept_steps or repeat(0.0, len(steps)),
        strict=True,
    )
    average = engine.average
    add = np.add.reduce
    for j, (Xb, r, w, step, scale, intercept_step) in enumerate(work):
        if intercept_steps:
            r += b
        # In place: ``residual`` keeps the pre-update residuals for the loss.
        gemv(1.0, Xb, coef, 1.0, r, overwrite_y=1, trans=1)
        g = r if w is None else r * w
        if per_coefficient:
            coef = gemv(step, Xb, g, 1.0, coef, overwrite_y=1)
            coef *= scale
        else:
            coef = gemv(step, Xb, g, scale, coef, overwrite_y=1)
        if intercept_steps:
            b -= intercept_step * add(g)
        if j >= average_from:
            average.coef_sum[:, 0] += coef
            average.intercept_sum[0] += b
            average.count += 1
    engine.coef[:, 0] = coef
    engine.intercept[0] = b


def generic_window(engine, Xw, Yw, ww, etas):
    """Any loss, penalty, X format and number of targets, via the protocols."""
    B = engine.batch_size
    n_rows = Yw.shape[0]
    coef, intercept = engine.coef, engine.intercept
    predictions = np.empty_like(Yw)
    average_from = engine.averaging_from(len(etas), n_rows)
    # Sparse windows are scaled but not centred: centre implicitly.
    offset = None
    if engine.standard is not None and sp.issparse(Xw):
        offset = engine.standard.offset
    for j, eta in enumerate(etas.tolist()):
        batch = slice(j * B, (j + 1) * B)
        Xb = Xw[batch]
        if offset is None:  # the common case, without the helper's overhead
            P = safe_sparse_dot(Xb, coef, dense_output=True)
        else:
            P = centred_dot(Xb, coef, offset, dtype=coef.dtype)
        if engine.fit_intercept:
            P += intercept
        predictions[batch] = P
        m = P.shape[0]
        v = batch_weights(None if ww is None else ww[batch], m)
        G = np.asarray(engine.loss.gradient(Yw[batch], P, v), dtype=coef.dtype)
        if offset is None:
            coef -= eta * safe_sparse_dot(Xb.T, G, dense_output=True)
        else:
            coef -= eta * centred_tdot(Xb, G, offset, dtype=coef.dtype)
        if engine.penalty is not None:
            step = eta * engine.alpha
            if engine.standard is None:
                coef[...] = engine.penalty.prox(coef, step)
            else:
                coef[...] = engine.standard.prox(engine.penalty, coef, step)
        if engine.fit_intercept:
            intercept -= eta * G.sum(axis=0)
        if j >= average_from:
            engine.average.add(coef, intercept)
    engine.n_seen += n_rows
    if ww is None:
        v = np.full(n_rows, 1.0 / n_rows)
    else:
        total = float(ww.sum())
        if total <= 0:
            return 0.0
        v = ww / total
    return float(engine.loss.value(Yw, predictions, v))
