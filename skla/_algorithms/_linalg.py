"""Small shared numerics: products on one BLAS, sums of squares, the largest
eigenvalue by power iteration, and the divergence test.

numpy and scipy wheels each bundle their own OpenBLAS, each with a thread
pool whose threads spin for a while after every call.  Code that alternates
between them (numpy's ``@`` next to scipy's QR or SVD) makes the two pools
fight over the cores: on 2 cores a randomized SVD ran 2.5 times slower.  The
SVD code therefore multiplies with scipy's ``gemm`` and sums squares with
plain numpy reductions, which use no BLAS.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import get_blas_funcs
from sklearn.utils.extmath import safe_sparse_dot

__all__ = ["EXPLODED", "dot", "has_exploded", "power_iteration", "sum_of_squares"]


def dot(a, b, *, trans_a=False, trans_b=False):
    """``op(a) @ op(b)``: scipy's gemm for dense arrays, sparse products otherwise.

    A C-ordered operand is passed to gemm as its Fortran-ordered transpose, so
    nothing is copied.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(6.0).reshape(2, 3)
    >>> np.array_equal(dot(a, a, trans_b=True), a @ a.T)
    True
    """
    if sp.issparse(a) or sp.issparse(b):
        return safe_sparse_dot(a.T if trans_a else a, b.T if trans_b else b)
    gemm = get_blas_funcs("gemm", (a, b))
    if not a.flags.f_contiguous:
        a, trans_a = np.ascontiguousarray(a).T, not trans_a
    if not b.flags.f_contiguous:
        b, trans_b = np.ascontiguousarray(b).T, not trans_b
    return gemm(1.0, a, b, trans_a=trans_a, trans_b=trans_b)


def sum_of_squares(X, *, block=1 << 16) -> float:
    """``‖X‖_F²`` accumulated in float64, block by block, for dense or sparse X.

    Examples
    --------
    >>> import numpy as np
    >>> sum_of_squares(np.array([[3.0, 4.0]], dtype=np.float32))
    25.0
    """
    data = X.data if sp.issparse(X) else np.asarray(X).reshape(-1)
    total = 0.0
    for start in range(0, data.size, block):
        chunk = data[start : start + block].astype(np.float64)
        total += float(np.add.reduce(chunk * chunk))
    return total


# A value this many times its reference (the objective or loss at the start)
# means the iterates have left for infinity.
EXPLODED = 1e8


def has_exploded(value, reference) -> bool:
    """Whether ``value`` is non-finite or ``EXPLODED`` times ``reference``.

    The one divergence test of the iterative algorithms (gradient descent
    and mini-batch SGD); each words its own message.

    Examples
    --------
    >>> has_exploded(5.0, 1.0), has_exploded(1e9, 1.0), has_exploded(float("nan"), 1.0)
    (False, True, True)
    """
    floor = np.finfo(np.float64).tiny  # a reference of 0: any real growth
    return not np.isfinite(value) or value > EXPLODED * max(reference, floor)


def power_iteration(apply, n, *, n_iter=30, seed=0) -> float:
    """The largest eigenvalue of a symmetric positive semi-definite operator.

    ``apply(z)`` returns the operator times ``z`` (a vector of length ``n``);
    a dense matrix is multiplied by ``einsum``'s loops, not numpy's BLAS: a
    product with a 101 × 101 matrix already wakes numpy's thread pool, whose
    threads then spin against the scipy BLAS calls that follow (SGD's
    updates after its step cap: 45 ms instead of 20 on 200000 × 100), and
    thirty such products cost microseconds either way.  The estimate
    approaches the eigenvalue from below; callers that take a step from it
    keep a safety margin or a backtracking safeguard.  (A dense eigensolver
    costs milliseconds of thread start-up even for 100×100.)

    Examples
    --------
    >>> import numpy as np
    >>> round(power_iteration(np.diag([1.0, 3.0, 2.0]), 3), 6)
    3.0
    """
    if isinstance(apply, np.ndarray):
        matrix = apply

        def apply(z):
            return np.einsum("ij,j->i", matrix, z)

    z = np.random.default_rng(seed).standard_normal(n)
    value = 0.0
    for _ in range(n_iter):
        z = apply(z)
        value = float(np.linalg.norm(z))
        if not value > 0:  # the zero operator (or a non-finite one)
            return 0.0
        z /= value
    return value
