r"""The randomized range finder of Halko, Martinsson and Tropp, and its SVD.

Written on scipy's BLAS and LAPACK alone (see :mod:`._linalg`) rather than
calling :func:`sklearn.utils.extmath.randomized_svd`, which mixes numpy's and
scipy's OpenBLAS thread pools (``benchmarks/bench_svd.py`` measures both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sl
from sklearn.utils import check_random_state

from ._linalg import dot, sum_of_squares
from .svd import energy_rank, top

__all__ = ["RangeFinder", "generator"]


def generator(random_state):
    """A numpy Generator seeded from scikit-learn's ``random_state``."""
    return np.random.default_rng(check_random_state(random_state).randint(2**31))


def _orthonormal(Y):
    return sl.qr(Y, mode="economic", overwrite_a=True, check_finite=False)[0]


def _well_conditioned(Y):
    """A basis of span(Y) with unit-lower-triangular rows: LU's ``P L``.

    Between power iterations the basis only has to stay well conditioned;
    LU does that in a fifth of the time of a QR with its explicit Q (as in
    scikit-learn's randomized range finder).
    """
    return sl.lu(Y, permute_l=True, overwrite_a=True, check_finite=False)[0]


def _project_out(Y, Q):
    """``Y - Q Qᵀ Y``, twice (classical Gram–Schmidt needs the second pass)."""
    for _ in range(2):
        Y = Y - dot(Q, dot(Q, Y, trans_a=True))
    return Y


def _small_svd(X, Q, B=None):
    """The SVD of ``Q Qᵀ X`` from that of the small ``B = Qᵀ X`` (l × n)."""
    if B is None:
        B = np.asarray(dot(Q, X, trans_a=True))
    Ub, s, Vt = sl.svd(B, full_matrices=False, check_finite=False)
    return dot(Q, Ub), s, Vt


@dataclass(frozen=True)
class RangeFinder:
    r"""Randomized SVD with power iterations, and its energy-criterion variant.

    Finds an orthonormal basis Q of ``l = k + p`` columns for the range of
    ``(X Xᵀ)^q X Ω`` (Ω Gaussian; each half-step renormalised by LU, the last
    by QR), then takes the exact SVD of the small ``Qᵀ X``.  Its error decays
    like :math:`(\sigma_{l+1}/\sigma_k)^{2q+1}` relative to the optimum.

    Parameters
    ----------
    n_oversamples : int, default=10
        Extra basis vectors, ``p``.
    n_iter : int or "auto", default="auto"
        Power iterations ``q``; "auto" is 4 (7 when ``k`` is under a tenth
        of ``min(m, n)``), as :func:`sklearn.utils.extmath.randomized_svd`.
    oversample_rank : bool, default=False
        Oversample by at least the rank, ``p = max(n_oversamples, k)``: a
        basis of twice the rank.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 200))
    >>> s = RangeFinder().svd(X, 3, random_state=0)[1]
    >>> np.allclose(s, np.linalg.svd(X, compute_uv=False)[:3])
    True
    """

    n_oversamples: int = 10
    n_iter: int | str = "auto"
    oversample_rank: bool = False

    def oversampling(self, k):
        """Extra basis vectors for rank ``k``."""
        return (
            max(self.n_oversamples, k) if self.oversample_rank else self.n_oversamples
        )

    def power_iterations(self, shape, k):
        """Power iterations for rank ``k`` of a matrix of shape ``shape``."""
        if self.n_iter != "auto":
            return int(self.n_iter)
        return 7 if k < 0.1 * min(shape) else 4

    def basis(self, X, width, n_iter, rng, Q=None):
        """An orthonormal basis for ``width`` more directions of X's range
        (orthogonal to the orthonormal ``Q`` if given)."""
        dtype = X.dtype
        omega = rng.standard_normal((width, X.shape[1])).astype(dtype, copy=False).T
        Y = dot(X, omega)
        for _ in range(n_iter):
            if Q is not None:
                Y = _project_out(Y, Q)
            Y = _well_conditioned(Y)
            Z = _well_conditioned(np.asarray(dot(X, Y, trans_a=True)))
            Y = dot(X, Z)
        if Q is not None:
            Y = _project_out(Y, Q)
        return _orthonormal(np.asarray(Y, dtype=dtype))

    def svd(self, X, k, *, random_state=None):
        """The top ``k`` triplets of X, ``(U, s, Vt)``."""
        rng = generator(random_state)
        width = min(k + self.oversampling(k), min(X.shape))
        Q = self.basis(X, width, self.power_iterations(X.shape, k), rng)
        return top(_small_svd(X, Q), k)

    def svd_energy(self, X, fraction, *, random_state=None, block=32):
        """Grow the basis by ``block`` columns, then twice as many each time,
        until its top triplets hold ``fraction`` of ‖X‖_F² with the
        oversampling to spare.

        What is counted are the squared singular values of ``Q Qᵀ X`` cut to
        its top k triplets, the approximation returned: the fraction holds
        however loose the basis (which can only make k larger).
        """
        rng = generator(random_state)
        target = fraction * sum_of_squares(X)
        limit = min(X.shape)
        Q = np.empty((X.shape[0], 0), dtype=X.dtype)
        B = np.empty((0, X.shape[1]), dtype=X.dtype)
        while True:
            width = min(block, limit - Q.shape[1])
            n_iter = self.power_iterations(X.shape, Q.shape[1] + width)
            new = self.basis(X, width, n_iter, rng, Q if Q.size else None)
            Q = np.asfortranarray(np.hstack([Q, new]))
            B = np.vstack([B, np.asarray(dot(new, X, trans_a=True))])
            triplets = _small_svd(X, Q, B)
            k, enough = energy_rank(triplets[1], target)
            spare = Q.shape[1] >= k + self.oversampling(k)
            if (enough and spare) or Q.shape[1] >= limit:
                return top(triplets, k)
            block *= 2
