"""Products with the implicitly centred X, ``(X - 1μᵀ) B`` and its transpose."""

from __future__ import annotations

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot

__all__ = ["centred_dot", "centred_tdot"]


def centred_dot(X, B, offset, *, dtype=np.float64):
    """``(X - 1 μᵀ) B`` in ``dtype`` without centring X (dense or sparse X).

    Examples
    --------
    >>> import numpy as np
    >>> X, mu = np.array([[1.0, 2.0], [3.0, 6.0]]), np.array([2.0, 4.0])
    >>> centred_dot(X, np.array([1.0, 1.0]), mu)
    array([-3.,  3.])
    """
    out = np.asarray(safe_sparse_dot(X, B, dense_output=True), dtype=dtype)
    if offset is not None:
        out -= offset @ B
    return out


def centred_tdot(X, G, offset, *, dtype=np.float64):
    """``(X - 1 μᵀ)ᵀ G`` in ``dtype`` without centring X (dense or sparse X).

    Examples
    --------
    >>> import numpy as np
    >>> X, mu = np.array([[1.0, 2.0], [3.0, 6.0]]), np.array([2.0, 4.0])
    >>> centred_tdot(X, np.array([-1.0, 1.0]), mu)
    array([2., 4.])
    """
    out = np.asarray(safe_sparse_dot(X.T, G, dense_output=True), dtype=dtype)
    if offset is not None:
        out -= np.multiply.outer(offset, np.sum(G, axis=0))
    return out
