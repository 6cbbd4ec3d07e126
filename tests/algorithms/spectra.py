"""Matrices of chosen singular values, and the Eckart–Young yardstick, for
the tests of the SVD solvers (test_lanczos.py, test_lanczos_gram.py)."""

import numpy as np


def with_spectrum(s, m=600, seed=1):
    """An m × len(s) matrix with singular values ``s`` and random vectors."""
    rng = np.random.default_rng(seed)
    n = len(s)
    U = np.linalg.qr(rng.standard_normal((m, n)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return (U * s) @ V.T


def error_ratio(X, Vt, s, k):
    """``‖X − X V Vᵀ‖_F`` over the Eckart–Young optimum, in float64."""
    V = np.asarray(Vt, dtype=np.float64).T
    X = np.asarray(X, dtype=np.float64)
    return np.linalg.norm(X - (X @ V) @ V.T) / np.sqrt(np.sum(s[k:] ** 2))
