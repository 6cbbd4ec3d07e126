r"""Block Golub–Kahan–Lanczos bidiagonalisation: top singular triplets in a
few passes over X, stopped when the kept energy stops growing.

Starting from ``b`` random orthonormal columns ``V₁``, the recurrence

.. math::

    X V_j = U_{j-1} B_{j-1}^\top + U_j A_j, \qquad
    X^\top U_j = V_j A_j^\top + V_{j+1} B_j

builds orthonormal bases ``U = [U₁ … U_j]`` (m × jb) and ``V`` (n × jb) of the
block Krylov spaces of ``X Xᵀ`` and ``Xᵀ X``, with ``Uᵀ X V = T`` block upper
bidiagonal (``A`` on the diagonal, ``Bᵀ`` above it).  Each step is one product
with X and one with Xᵀ, every column of a block read in the same pass.  Both
bases are reorthogonalised in full (classical Gram–Schmidt, twice), so
``X V = U T`` holds to rounding and the Ritz triplets of ``T`` are exact
triplets of the projection: for its top ``k`` right vectors ``V_k``,
``‖X V_k‖_F² = Σ_{i≤k} θ_i²`` exactly.  Hence the error of the rank-k
approximation, ``‖X‖_F² − Σ θ_i²``, is known at every step, and the
iteration stops once a step adds at most ``tol`` of it (Krylov convergence is
superlinear: what later steps would add is far less).

Why it beats the randomized range finder at small ranks: the Krylov space
of j blocks is at least as good as ``j`` power iterations on the same block
(it contains that subspace), and the block can be narrower than ``k``; a
one-column block reads X with matrix-vector products, 3 times cheaper than
a matrix product of two columns on this kind of data.  Blocks of a few columns
keep it robust to clustered singular values (a single vector meets a
repeated σ only once).

Blocks of one or two columns (ranks up to 8) build the same right Krylov
space from ``Xᵀ (X V_j)`` in one fused pass over X a step, the Ritz values
still from ``X V = U R`` (:mod:`.lanczos_gram`); this module's Golub–Kahan
takes over where that route cannot resolve the values (float32 values
below 0.02 σ₁) or its products would leave the floating-point range.

The products use numpy's ``@`` and the factorisations numpy's LAPACK, so
every BLAS call of a fit runs on numpy's OpenBLAS thread pool: the pool a
user's script keeps warm (``benchmarks/README.md``, issue 16).
"""

from __future__ import annotations

import numpy as np

from .krylov_bases import (
    empty_bases,
    eps,
    orthonormal,
    ritz_triplets,
    settled,
    spoilt,
)
from .lanczos_gram import gram_fits, gram_lanczos_svd, gram_resolves
from .svd import full_svd, top

__all__ = [
    "FLOAT32_RESOLUTION",
    "block_lanczos_svd",
    "block_size",
    "krylov_svd",
    "may_miss_a_copy",
]

#: In float32, singular values below this share of the largest are redone
#: in float64: the products' rounding (about eps·σ₁) would swamp them.
FLOAT32_RESOLUTION = 1e3 * float(np.finfo(np.float32).eps)


def krylov_svd(X, k, *, tol, squared_norm, rng, block=None):
    """The top ``k`` triplets ``(U, s, Vt)`` of X by block Lanczos,
    the block widened (doubled, up to k) while a repeated singular value may
    have been met fewer times than it counts (:func:`may_miss_a_copy`).

    ``block`` is the first width (:func:`block_size` if None); ``tol``,
    ``squared_norm`` and ``rng`` are those of :func:`block_lanczos_svd`.  If
    the bases would outgrow ``min(m, n)`` the exact SVD (LAPACK) is taken.
    In float32, a result whose last value is below
    :data:`FLOAT32_RESOLUTION` of the first is redone in float64 on a copy:
    float32 products are off by about eps·σ₁, so such values are noise
    (1e8 + N(0, 1) gave σ₂ = 756 for 11.3; ARPACK gives 2920).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.diag([5.0, 5.0, 5.0, 4.0, 3.0, 2.0, 1.0])  # 5 three times
    >>> s = krylov_svd(X, 3, tol=0.0, squared_norm=80.0,
    ...     rng=np.random.default_rng(0), block=2)[1]
    >>> np.allclose(s, 5.0)
    True
    """
    U, s, Vt = _widening(X, k, tol, squared_norm, rng, block)
    if X.dtype == np.float32 and s[-1] < FLOAT32_RESOLUTION * s[0]:
        U, s, Vt = _widening(X.astype(np.float64), k, tol, squared_norm, rng, block)
        U, s, Vt = (a.astype(np.float32) for a in (U, s, Vt))
    return U, s, Vt


def _widening(X, k, tol, squared_norm, rng, block):
    """:func:`block_lanczos_svd` with the block doubled while a copy may be
    missed; the exact SVD if the bases would outgrow X."""
    block = block_size(k) if block is None else int(block)
    # Each value has settled to 0.1 tol of itself: two copies of one value
    # are within twice that of each other, in squares 0.4 tol.
    rtol = np.sqrt(eps(X.dtype)) + 0.4 * tol
    while True:
        found = block_lanczos_svd(
            X, k, block=block, tol=tol, squared_norm=squared_norm, rng=rng
        )
        if found is None:
            return top(full_svd(X), k)
        U, s, Vt, _ = found
        floor = 64 * eps(X.dtype) * float(s[0]) ** 2  # values at rounding level
        if not may_miss_a_copy(s, k, block, rtol=rtol, floor=floor):
            return U, s, Vt
        block = min(k, 2 * block)


def block_size(k):
    """The starting block width for rank ``k``: a vector for k = 1, two
    columns up to k = 8, then half of k up to 16 (the fastest measured on
    the bundled photos at 3024 × 4032, ranks 1 to 64, in a script:
    ``benchmarks/README.md``).

    Examples
    --------
    >>> [block_size(k) for k in (1, 2, 8, 16, 32, 64)]
    [1, 2, 2, 8, 16, 16]
    """
    if k == 1:
        return 1
    return 2 if k <= 8 else int(min(16, k // 2))


def may_miss_a_copy(theta, k, block, *, rtol, floor=0.0):
    """Whether a repeated singular value may have more copies than were found.

    A block of ``b`` columns meets a repeated singular value at most ``b``
    times: in exact arithmetic its Krylov space holds only ``b`` directions
    of that value's singular subspace.  So if ``b`` consecutive Ritz values
    among the first ``k - 1`` are equal (their squares within ``rtol`` of
    each other, and above ``floor``: missed copies of a value at rounding
    level hold no energy), another copy would belong to the top k, and the
    caller widens the block.  With ``b >= k`` nothing can be missed.

    Examples
    --------
    >>> import numpy as np
    >>> may_miss_a_copy(np.array([5.0, 5.0, 4.0, 1.0]), 3, 2, rtol=1e-8)
    True
    >>> may_miss_a_copy(np.array([5.0, 4.0, 4.0, 1.0]), 3, 2, rtol=1e-8)
    False
    """
    if block >= k:
        return False
    squares = np.asarray(theta[: k - 1], dtype=np.float64) ** 2  # a copy after fits
    close = np.abs(np.diff(squares)) <= rtol * squares[1:]
    close &= squares[1:] > floor
    run = longest = 1
    for equal in close:
        run = run + 1 if equal else 1
        longest = max(longest, run)
    return longest >= block


def block_lanczos_svd(X, k, *, block, tol, squared_norm, rng):
    """The top ``k`` triplets of X by block Golub–Kahan–Lanczos.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (m, n)
        float32 or float64; the bases and triplets are of its dtype, ``T``
        and its SVD float64.
    k : int
        Rank, ``1 <= k <= min(m, n)``.
    block : int
        Columns per block (:func:`block_size`).
    tol : float
        Stop when one step adds at most ``tol`` times the error still left,
        ``‖X‖_F² − Σ_{i≤k} θ_i²``, to the kept energy (0: until a step adds
        nothing above rounding).
    squared_norm : float
        ``‖X‖_F²``.
    rng : numpy.random.Generator
        Draws the starting block.

    Returns
    -------
    (U, s, Vt, steps) or None
        None if the bases would outgrow ``min(m, n)`` before converging, or
        if the Ritz values hold more energy than ``squared_norm`` (rounding
        has spoilt the bases): the caller then takes an exact SVD.
    U : ndarray of shape (m, k)
    s : ndarray of shape (k,)
        Largest first.
    Vt : ndarray of shape (k, n)
    steps : int
        Blocks built (each one pass over X and one over Xᵀ).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 200)) * 0.9 ** np.arange(200)
    >>> U, s, Vt, _ = block_lanczos_svd(X, 3, block=2, tol=0.0,
    ...     squared_norm=float(np.sum(X**2)), rng=rng)
    >>> np.allclose(s, np.linalg.svd(X, compute_uv=False)[:3])
    True
    """
    if block <= 2 and gram_fits(squared_norm, X.dtype):
        # One fused pass over X a block (:mod:`.lanczos_gram`); Golub–Kahan
        # where values are out of its reach.
        found = gram_lanczos_svd(
            X, k, block=block, tol=tol, squared_norm=squared_norm, rng=rng
        )
        if found is None or gram_resolves(found[1], X.dtype):
            return found
    dtype = X.dtype
    block, limit, left, right = empty_bases(X.shape, dtype, k, block)
    V, _ = orthonormal(
        rng.standard_normal((X.shape[1], block)).astype(dtype), right, rng
    )
    U, A = orthonormal(_times(X, V), left, rng)
    right.append(V)
    left.append(U)
    diagonal, above = [A], []
    before = np.zeros(k)  # the top k Ritz values of the step before
    while True:
        T = _block_bidiagonal(diagonal, above)
        theta = np.zeros(k)
        theta[: min(k, T.shape[0])] = np.linalg.svd(T, compute_uv=False)[:k]
        if spoilt(theta, squared_norm, dtype):
            return None
        if T.shape[0] >= k and settled(
            theta, before, k=k, tol=tol, squared_norm=squared_norm, dtype=dtype
        ):
            break
        if left.size + block > limit:
            return None  # the caller takes an exact SVD instead
        before = theta
        # Xᵀ U_j = V_j A_jᵀ + V_{j+1} B_j
        Z = right.orthogonalise(_times(X, U, transpose=True) - V @ A.T.astype(dtype))
        V, B = orthonormal(Z, right, rng, scale=float(theta[0]))
        # X V_{j+1} = U_j B_jᵀ + U_{j+1} A_{j+1}
        W = left.orthogonalise(_times(X, V) - U @ B.T.astype(dtype))
        U, A = orthonormal(W, left, rng, scale=float(theta[0]))
        right.append(V)
        left.append(U)
        above.append(B.T)
        diagonal.append(A)
    return (*ritz_triplets(left, right, T, k, dtype), len(diagonal))


def _times(X, V, *, transpose=False):
    """``X @ V`` (``X.T @ V`` if ``transpose``) on numpy's BLAS.

    Blocks of one or two columns go column by column through ``gemv``: a
    matrix product packs X first and costs 3 times one ``gemv`` already at
    two columns (3024 × 4032 float32: 2.6 against 0.8 ms).
    """
    A = X.T if transpose else X
    if V.shape[1] > 2:
        return np.asarray(A @ V)
    out = np.empty((A.shape[0], V.shape[1]), dtype=V.dtype, order="F")
    for j in range(V.shape[1]):
        out[:, j] = A @ V[:, j]
    return out


def _block_bidiagonal(diagonal, above):
    """``T`` from its diagonal blocks ``A_j`` and the blocks ``B_jᵀ`` above."""
    sizes = [A.shape[0] for A in diagonal]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    T = np.zeros((offsets[-1], offsets[-1]))
    for j, A in enumerate(diagonal):
        T[offsets[j] : offsets[j + 1], offsets[j] : offsets[j + 1]] = A
    for j, Bt in enumerate(above):
        T[offsets[j] : offsets[j + 1], offsets[j + 1] : offsets[j + 2]] = Bt
    return T
