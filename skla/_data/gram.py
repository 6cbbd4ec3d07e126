r"""The Gram matrix of a dense least-squares problem, in one pass over X.

:func:`dense_gram` forms ``AᵀA`` and ``AᵀB`` of the implicitly centred and
weighted rows by blocks: each block is centred into a buffer that stays in
cache and handed to BLAS (``syrk``, ``gemm``).  Where the centre is still to
be computed (``X_offset="mean"``), the same pass computes it:

- the blocks are centred on a **shift** ``s``, the weighted mean of a
  strided sample of about 1024 rows (close to the mean, whatever the order
  of the rows);
- the ``gemm`` that forms ``AᵀB`` carries one more column, ``√w``, so it
  also returns ``Σ wᵢ (xᵢ - s)`` at no extra read: the mean is
  ``μ = s + δ`` with ``δ = Σ wᵢ (xᵢ - s) / W``;
- the Gram matrix about ``μ`` is the one about ``s`` less ``W δδᵀ``.  As ``δ``
  is small, that correction cancels little: its size ``W‖δ‖²`` enters the
  rounding bound (``offset_scale``); where it is not small against the
  trace (a sample far from the mean), the pass is repeated about ``μ``.

This saves the separate pass that computed the mean (8 ms of a 0.09 s fit
on 200000×100, measured for issue 25).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.linalg import get_blas_funcs

from .moments import weighted_mean

__all__ = ["Gram", "dense_gram"]

#: Rows in the sample whose mean is the shift.
_SAMPLE_ROWS = 1024

#: Repeat the pass about the mean where ``W‖δ‖²`` exceeds this fraction of
#: the trace of the centred Gram matrix (the sample was far from the mean).
_MAX_CORRECTION = 0.1


class Gram(NamedTuple):
    """``AᵀA`` and ``AᵀB`` in float64, with what is needed to bound their error.

    Rounding errors in ``G`` are of order ``eps * (‖G‖₂ + offset_scale)``.
    """

    G: np.ndarray
    AtB: np.ndarray
    eps: float
    """Unit roundoff of the arithmetic that formed G."""
    offset_scale: float
    """The largest term cancelled by a centring correction (0 if none)."""


def dense_gram(problem, n_rows=None):
    """``AᵀA`` and ``AᵀB`` of a dense :class:`~skla._data.LstsqProblem`.

    Sets the problem's mean where it was pending (see the module's notes).

    Examples
    --------
    >>> import numpy as np
    >>> from skla._data import LstsqProblem
    >>> X = np.array([[1.0, 2.0], [3.0, 5.0], [5.0, 4.0]])
    >>> problem = LstsqProblem(X, np.ones((3, 1)), None, "mean", np.ones(1))
    >>> gram = dense_gram(problem)
    >>> np.allclose(gram.G, np.cov(X.T, bias=True) * 3), problem.X_offset
    (True, array([3.        , 3.66666667]))
    """
    eps = float(np.finfo(np.float64).eps)
    if not problem.mean_pending or problem.shape[0] == 0:
        G, AtB, _ = _gram_about(problem, problem.X_offset, n_rows, sums=False)
        return Gram(G, AtB, eps, 0.0)
    shift = _shift(problem)
    G, AtB, sums = _gram_about(problem, shift, n_rows, sums=True)
    W = problem.total_weight
    if not W > 0:  # no weight: nothing to centre on
        problem.set_mean(shift)
        return Gram(G, AtB, eps, 0.0)
    delta = sums / W
    correction = W * float(np.square(delta).sum())
    G -= W * np.outer(delta, delta)
    # B is centred on its own mean: Σ √w b = Σ w (y - ȳ), zero to rounding.
    AtB -= np.outer(delta, _weighted_sum(problem.rhs(), problem.sqrt_weight))
    problem.set_mean(shift + delta)
    if correction > _MAX_CORRECTION * max(float(np.trace(G)), 0.0):
        G, AtB, _ = _gram_about(problem, problem.X_offset, n_rows, sums=False)
        correction = 0.0
    return Gram(G, AtB, eps, correction)


def _shift(problem):
    """The weighted mean of a strided sample of the rows."""
    step = max(1, problem.shape[0] // _SAMPLE_ROWS)
    X = problem.X[::step]
    w = None if problem.sample_weight is None else problem.sample_weight[::step]
    if w is not None and not w.sum() > 0:
        w = None
    return weighted_mean(X, w)


def _weighted_sum(B, sqrt_weight):
    # Element-wise, not a numpy BLAS call: see the note in _gram_about.
    if sqrt_weight is None:
        return B.sum(axis=0)
    return np.einsum("i,ij->j", sqrt_weight, B)


def _gram_about(problem, centre, n_rows, *, sums):
    """The Gram products of the rows centred on ``centre`` (None: not
    centred), and with ``sums`` also ``Σ wᵢ (xᵢ - centre)``."""
    d, k = problem.shape[1], problem.n_targets
    # scipy's BLAS, like the LAPACK calls that follow in every solver: numpy
    # and scipy each bring an OpenBLAS with its own spinning thread pool,
    # and alternating between them in one fit costs up to 2x here.  So the
    # small products around this pass are element-wise, not numpy's BLAS
    # (measured on a stream of 50000-row chunks: 30 ms a chunk, not 22).
    syrk, gemm = get_blas_funcs(("syrk", "gemm"), dtype=np.float64)
    G = np.zeros((d, d), order="F")
    AtB = np.zeros((d, k + sums), order="F")
    sqrt_weight = problem.sqrt_weight
    a_buf = b_buf = None
    for rows in problem.row_blocks(n_rows):
        size = rows.stop - rows.start
        if a_buf is None:
            a_buf, b_buf = np.empty((size, d)), np.empty((size, k + sums))
        a = problem.centred_rows(rows, centre, a_buf[:size])
        b = b_buf[:size]
        problem.centred_targets(rows, b[:, :k])
        if sums:  # Σ √w a = Σ w (x - centre), from the same gemm
            b[:, k] = 1.0 if sqrt_weight is None else sqrt_weight[rows]
        # a is C-ordered, so a.T is Fortran-ordered: no copies.
        G = syrk(1.0, a.T, beta=1.0, c=G, overwrite_c=True)
        AtB = gemm(1.0, a.T, b, beta=1.0, c=AtB, overwrite_c=True)
    # syrk filled the upper triangle; the lower one is still 0.
    G += G.T
    G[np.diag_indices(d)] *= 0.5
    if sums:
        return G, np.ascontiguousarray(AtB[:, :k]), AtB[:, k].copy()
    return G, AtB, None
