"""Dense products on scipy's BLAS, and sums of squares without BLAS.

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

__all__ = ["dot", "sum_of_squares"]


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
