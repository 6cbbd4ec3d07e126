r"""Block Lanczos on ``XᵀX`` with one fused pass over X a block: the route of
:func:`.lanczos.block_lanczos_svd` for blocks of one or two columns.

Golub–Kahan reads X twice a block, ``X V_j`` and then ``Xᵀ U_j``: the second
product needs ``U_j``, which is known only once the first is orthogonalised.
The right basis is the block Krylov space of ``XᵀX`` either way, so this
route builds it from ``Z = Xᵀ (X V_j)`` instead, both products taken row
block by row block while the block is in the cache: X is read from memory
once a step.  On the 3024 × 4032 photos a step of two columns then costs
0.55 of the four matrix-vector products of Golub–Kahan (float32 and
float64), one column 0.7 of two.

The singular values are not squared: ``W = X V`` is formed exactly, and the
QR of the columns of W as they come, ``X V = U R`` (U orthonormal, R upper
triangular, float64), is the Rayleigh–Ritz projection -- the top singular
triplets of ``R`` give those of the Krylov space, ``X V_k = U_k Θ`` to
rounding, as in Golub–Kahan, and ``‖X‖² − Σθ²`` is again the error of the
rank-k approximation.  Only the next direction comes from ``XᵀX``: its
rounding, ``eps·σ₁²``, is relative to what it adds at a value σ, about σ²
(Golub–Kahan: ``eps·σ₁`` against σ).  The bases stay orthonormal
(reorthogonalised in full, twice) and the kept energy exact, but values
below ``√(eps/3e-4)·σ₁`` -- 0.02 σ₁ in float32 -- may be missed: the caller
then takes Golub–Kahan (:func:`gram_resolves`).  Products with ``XᵀX`` must
also fit the floating-point range (:func:`gram_fits`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .krylov_bases import (
    empty_bases,
    eps,
    orthonormal,
    ritz_triplets,
    settled,
    spoilt,
)

__all__ = ["gram_fits", "gram_lanczos_svd", "gram_products", "gram_resolves"]

# The largest share of rounding a new direction from XᵀX may carry at a
# value it is to resolve (see gram_resolves).
_NOISE = 3e-4


def gram_fits(squared_norm, dtype):
    """Whether products with ``XᵀX`` stay well inside the range of ``dtype``.

    They are of the size of ``σ₁² <= ‖X‖_F²``: float32 entries beyond 1e19
    would overflow them (and below 1e-19 lose the small values to
    underflow); Golub–Kahan's products, of the size of σ₁, do not.

    Examples
    --------
    >>> import numpy as np
    >>> gram_fits(3.4e11, np.float32), gram_fits(1e45, np.float32)
    (True, False)
    """
    info = np.finfo(dtype)
    return float(np.sqrt(info.tiny)) <= squared_norm <= float(np.sqrt(info.max))


def gram_products(X, V, *, block_elements=1 << 19):
    """``W = X V`` and ``Z = Xᵀ W`` in one pass over dense X, by row blocks.

    Each block of rows (about ``block_elements`` numbers, 2 to 4 MB: it
    stays in the cache) is multiplied by the columns of V and its transpose
    by the results, column by column through ``gemv`` (a matrix product
    packs the block first and costs twice as much at two columns).  Z is
    summed in float64.  Sparse X is multiplied whole, twice.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(4, 3)
    >>> W, Z = gram_products(X, np.eye(3)[:, :2], block_elements=3)
    >>> np.array_equal(W, X[:, :2]), np.array_equal(Z, X.T @ X[:, :2])
    (True, True)
    """
    if sp.issparse(X) or not isinstance(X, np.ndarray):
        W = np.asarray(X @ V)
        return W, np.asarray(X.T @ W)
    m, n = X.shape
    rows = max(1, block_elements // max(n, 1))
    V = np.asfortranarray(V)  # contiguous columns: a strided vector is slower
    W = np.empty((m, V.shape[1]), dtype=V.dtype, order="F")
    Z = np.zeros((V.shape[1], n))
    for start in range(0, m, rows):
        block = X[start : start + rows]
        for j in range(V.shape[1]):
            w = np.matmul(block, V[:, j], out=W[start : start + rows, j])
            Z[j] += w @ block
    return W, np.asarray(Z.T, dtype=V.dtype, order="F")


def gram_lanczos_svd(X, k, *, block, tol, squared_norm, rng):
    """The top ``k`` triplets of X by block Lanczos on ``XᵀX``, one pass a block.

    The parameters and the result are those of
    :func:`.lanczos.block_lanczos_svd`, which calls this for blocks of at
    most two columns: ``(U, s, Vt, steps)``, or None when the bases would
    outgrow ``min(m, n)`` or hold more energy than X (rounding has spoilt
    them) and the caller takes an exact SVD.  It stops by the same rule
    (:func:`.krylov_bases.settled`).  Values it cannot resolve are
    told by :func:`gram_resolves`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 200)) * 0.9 ** np.arange(200)
    >>> U, s, Vt, _ = gram_lanczos_svd(X, 3, block=2, tol=0.0,
    ...     squared_norm=float(np.sum(X**2)), rng=rng)
    >>> np.allclose(s, np.linalg.svd(X, compute_uv=False)[:3])
    True
    >>> np.allclose(X @ Vt.T, U * s)
    True
    """
    dtype = X.dtype
    block, limit, left, right = empty_bases(X.shape, dtype, k, block)
    R = np.zeros((0, 0))  # X V = U R, upper triangular by blocks
    V, _ = orthonormal(
        rng.standard_normal((X.shape[1], block)).astype(dtype), right, rng
    )
    before = np.zeros(k)
    while True:
        W, Z = gram_products(X, V)
        W, C = left.project_out(W)  # X V = U_old C + U_new A
        U, A = orthonormal(W, left, rng, scale=float(before[0]))
        left.append(U)
        right.append(V)
        R = _bordered(R, C, A)
        _, ritz, yt = np.linalg.svd(R)
        theta = np.zeros(k)
        theta[: min(k, R.shape[0])] = ritz[:k]
        if spoilt(theta, squared_norm, dtype):
            return None
        if left.size + block > limit:
            return None  # the caller takes an exact SVD instead
        # The next block: the part of XᵀX V outside the basis (of the size
        # of σ², hence the squared scale of its rank test), V_next E.
        Z = right.orthogonalise(Z)
        V, E = orthonormal(Z, right, rng, scale=float(theta[0]) ** 2)
        if R.shape[0] >= k and (
            settled(theta, before, k=k, tol=tol, squared_norm=squared_norm, dtype=dtype)
            or _bounded(ritz, E @ yt[:, -block:].T, k, tol, squared_norm)
        ):
            break
        before = theta
    return (*ritz_triplets(left, right, R, k, dtype), R.shape[0] // block)


def gram_resolves(s, dtype):
    """Whether every singular value in ``s`` (largest first) was within reach.

    A new direction from ``XᵀX`` carries rounding of about ``eps·σ₁²``, a
    share ``eps (σ₁/σ)²`` of what it adds at a value σ; values where that
    share exceeds 3e-4 -- below 0.02 σ₁ in float32, 8.6e-7 σ₁ in float64 --
    are not resolved (float32, 1000 over a tail from 1: σ₂ came out 0.14
    against 1.0), unless they are at the rounding level of Golub–Kahan's
    own products, ``64 eps σ₁``, where neither route can resolve them.

    Examples
    --------
    >>> import numpy as np
    >>> gram_resolves(np.array([1.0, 0.05]), np.float32)
    True
    >>> gram_resolves(np.array([1.0, 0.01]), np.float32)
    False
    >>> gram_resolves(np.array([1.0, 0.01]), np.float64)
    True
    """
    s = np.asarray(s, dtype=np.float64)
    if s.size == 0 or not s[0] > 0:
        return True
    e = eps(dtype)
    reach, rounding = np.sqrt(e / _NOISE) * s[0], 64 * e * s[0]
    return not bool(np.any((s < reach) & (s > rounding)))


def _bounded(ritz, residuals, k, tol, squared_norm):
    """Whether the Ritz residuals bound the top ``k`` values within ``tol``.

    ``XᵀX V = V RᵀR + V_next E`` (E on the last block only), so the Ritz pair
    ``(θᵢ², V yᵢ)`` of ``XᵀX`` has the residual ``ρᵢ = ‖E yᵢ‖`` (the columns
    of ``residuals``), and the Kato–Temple bound ``σᵢ² − θᵢ² <= ρᵢ² / δᵢ``,
    δᵢ the distance from ``θᵢ²`` to the nearest other Ritz value less that
    value's own residual (0 for equal ones: a cluster is never bounded
    early).  The thresholds are those of :func:`.krylov_bases.settled`: the
    values still missing at most ``tol`` of the error left, none more than
    ``tol/10`` of itself.  It stops a step sooner on the photos: ``settled``
    must see a step change nothing first.  ``tol = 0``: never.
    """
    if tol <= 0 or len(ritz) <= k:
        return False
    squares = ritz.astype(np.float64) ** 2
    rho = np.linalg.norm(residuals, axis=0)
    gaps = np.full(k, np.inf)
    for i in range(k):
        others = np.delete(np.arange(len(squares)), i)
        distance = np.abs(squares[others] - squares[i]) - rho[others]
        gaps[i] = max(float(distance.min()), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        bounds = np.where(gaps > 0, rho[:k] ** 2 / gaps, np.inf)
    error = max(squared_norm - float(np.sum(squares[:k])), 0.0)
    return float(bounds.sum()) <= tol * error and bool(
        np.all(bounds <= 0.2 * tol * squares[:k])
    )


def _bordered(R, C, A):
    """R with the new block column ``[C; A]`` (and zero rows under it)."""
    size, width = R.shape[0], A.shape[1]
    grown = np.zeros((size + width, size + width))
    grown[:size, :size] = R
    grown[:size, size:] = C
    grown[size:, size:] = A
    return grown
