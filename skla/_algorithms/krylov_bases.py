"""The parts the Lanczos solvers share: orthonormal bases, the rank-revealing
orthonormalisation of a new block, and the stopping rule.

:mod:`.lanczos` (Golub–Kahan, two products a block) and :mod:`.lanczos_gram`
(one fused pass a block) both build their bases with these.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Basis",
    "empty_bases",
    "eps",
    "orthonormal",
    "ritz_triplets",
    "settled",
    "spoilt",
]


class Basis:
    """Orthonormal columns kept in one Fortran-ordered buffer that doubles."""

    def __init__(self, rows, dtype, capacity):
        self._data = np.empty((rows, capacity), dtype=dtype, order="F")
        self.size = 0

    @property
    def columns(self):
        return self._data[:, : self.size]

    def orthogonalise(self, W):
        """``W`` minus its projection on the basis, twice (CGS2), in place."""
        return self.project_out(W)[0]

    def project_out(self, W):
        """``W`` minus its projection on the basis (CGS2, in place), and the
        coefficients ``C`` of that projection, ``W_in = Q C + W_out``.

        The product ``Q D`` is written into a buffer of W's own layout: a
        product in numpy's default (C) layout subtracted from a Fortran W
        cost five times as much (a 4032 × 2 block: 96 against 20 µs).
        """
        C = np.zeros((self.size, W.shape[1]))
        if self.size:
            Q = self.columns
            product = np.empty_like(W)
            for _ in range(2):
                D = Q.T @ W
                W -= np.matmul(Q, D, out=product)
                C += D
        return W, C

    def append(self, Q):
        if self.size + Q.shape[1] > self._data.shape[1]:
            grown = np.empty(
                (self._data.shape[0], 2 * (self.size + Q.shape[1])),
                dtype=self._data.dtype,
                order="F",
            )
            grown[:, : self.size] = self.columns
            self._data = grown
        self._data[:, self.size : self.size + Q.shape[1]] = Q
        self.size += Q.shape[1]


def eps(dtype):
    """Machine epsilon as a Python float (a float32 scalar times a number
    beyond 1e38, such as ‖X‖² of large float32 data, overflows)."""
    return float(np.finfo(dtype).eps)


def _qr(W):
    """``W = Q R``, Q orthonormal, R upper triangular (float64 for one or
    two columns).

    One or two columns: Gram–Schmidt in float64, the second column
    projected twice ("twice is enough": orthogonal to rounding), which a
    float32 norm of entries beyond 1e19 would overflow.  LAPACK's
    Householder QR costs 30 to 130 µs for 4032 × 2 (its level-2 BLAS wakes
    numpy's threads for a few thousand numbers); this, 15 µs.  Wider
    blocks, fewer rows than columns, a zero first column or norms beyond
    float64's range (entries above 1e154) take numpy's Householder QR.
    """
    if W.shape[1] > 2 or W.shape[0] < W.shape[1]:
        return np.linalg.qr(W)
    columns = np.array(W, dtype=np.float64, order="F")
    first = columns[:, 0]
    norm = float(np.sqrt(first @ first))
    if W.shape[1] == 1:
        return (W / norm if norm > 0 else W), np.array([[norm]])
    if not (0 < norm < np.inf):
        return np.linalg.qr(W)
    first /= norm
    second = columns[:, 1]
    above = 0.0
    for _ in range(2):
        coefficient = float(first @ second)
        second -= coefficient * first
        above += coefficient
    with np.errstate(over="ignore"):
        below = float(np.sqrt(second @ second))
    if not below < np.inf:  # the second column's squares overflowed
        return np.linalg.qr(W)
    if below > 0:
        second /= below  # else a zero column: the caller's rank test drops it
    return columns.astype(W.dtype, copy=False), np.array([[norm, above], [0.0, below]])


def orthonormal(W, basis, rng, scale=0.0):
    """``W ≈ Q R`` with ``Q`` orthonormal and orthogonal to ``basis``.

    ``W`` has been projected on the basis already.  Its QR, then the SVD of
    the small R, tell its rank: directions whose singular value is at
    rounding level of ``scale`` (an estimate of ‖X‖₂) or of ``W`` -- X's rank
    is exhausted, or the Krylov space is invariant -- are dropped and
    replaced by random directions orthogonal to everything kept, with zero
    rows in ``R``; ``R = Qᵀ W`` on the kept ones (square, not triangular:
    the blocks of ``T`` need not be).  If W has a direction below ``√eps``
    of the reference, ``Q`` is projected on the basis once more and
    factorised again (block Gram–Schmidt's second pass): such a direction
    carries noise that is not orthogonal to the basis, and over a few steps
    the bases would stop being orthonormal (singular values of 1e36 in
    float32).
    """
    dtype, width = W.dtype, W.shape[1]
    Q, R = _qr(W)
    Ur, S, Vrt = np.linalg.svd(np.asarray(R, dtype=np.float64))
    reference = max(float(S[0]), scale, np.finfo(np.float64).tiny)
    resolution = 32 * eps(dtype) * reference
    rank = int(np.count_nonzero(resolution < S))
    Q = np.asarray(Q @ Ur[:, :rank].astype(dtype), dtype=dtype)
    R = np.zeros((width, width))
    R[:rank] = S[:rank, None] * Vrt[:rank]
    if rank < width:
        fresh = rng.standard_normal((W.shape[0], width - rank)).astype(dtype)
        fresh = basis.orthogonalise(fresh)
        fresh -= Q @ (Q.T @ fresh)
        Q = np.hstack([Q, np.linalg.qr(fresh)[0].astype(dtype)])
    # Only a direction far below ‖X‖ carries noise worth a second pass (its
    # share of rounding is large): skipping it otherwise saves 15% at k = 64.
    if basis.size and S[-1] <= np.sqrt(eps(dtype)) * reference:
        Q, R_again = _qr(basis.orthogonalise(np.array(Q, dtype=dtype, order="F")))
        R = np.asarray(R_again, dtype=np.float64) @ R
    return np.asarray(Q, dtype=dtype), R


def settled(theta, before, *, k, tol, squared_norm, dtype):
    """Whether the Ritz values ``theta`` (top k, float64) have settled.

    The step that took them from ``before`` added at most ``tol`` of the
    error still left, ``squared_norm − Σθ²`` (or nothing above the rounding
    of the products and of ‖X‖²), and moved none of them by more than
    ``tol/10`` of itself: the energy alone lets a slow last value lag
    (2.6e-3 at k = 8 on china.jpg).  Ritz values grow towards the singular
    values, so a move is an increase.
    """
    kept = float(np.sum(theta**2))
    error = max(squared_norm - kept, 0.0)
    floor = 64 * eps(dtype) * squared_norm
    gained = kept - float(np.sum(before**2))
    rounding = 64 * eps(dtype) * theta[0]
    return gained <= max(tol * error, floor) and bool(
        np.all(theta - before <= 0.1 * tol * theta + rounding)
    )


def empty_bases(shape, dtype, k, block):
    """``(block, limit, left, right)``: the block width (at most ``limit =
    min(m, n)``) and empty bases of X's columns and rows, sized for k
    values (a buffer that doubles beyond)."""
    m, n = shape
    limit = min(m, n)
    block = min(block, limit)
    capacity = min(limit, max(4 * block, 2 * k + 2 * block))
    return block, limit, Basis(m, dtype, capacity), Basis(n, dtype, capacity)


def spoilt(theta, squared_norm, dtype):
    """Whether Ritz values ``theta`` hold more energy than X has: rounding
    has spoilt the bases (the caller then takes an exact SVD)."""
    return not float(np.sum(theta**2)) <= squared_norm * (1 + np.sqrt(eps(dtype)))


def ritz_triplets(left, right, T, k, dtype):
    """The top k triplets ``(U, s, Vt)`` of X from its projection
    ``T = Uᵀ X V`` on the bases, in X's dtype."""
    x, theta, yt = np.linalg.svd(T)
    U = left.columns @ x[:, :k].astype(dtype)
    Vt = (right.columns @ yt[:k].T.astype(dtype)).T
    return U, theta[:k].astype(dtype), Vt
