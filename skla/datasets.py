"""Synthetic regression data with a prescribed spectrum, for tests and benchmarks."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_spectral_regression"]


def make_spectral_regression(
    n_samples=1000,
    n_features=10,
    *,
    cond=1.0,
    rank=None,
    n_targets=1,
    noise=0.0,
    offset=0.0,
    random_state=None,
):
    r"""Regression data whose centred design has a chosen condition number.

    ``X = U diag(s) Vᵀ + 1 cᵀ`` where U has orthonormal columns orthogonal to
    the ones vector (so ``U diag(s) Vᵀ`` is the centred design exactly), V is a
    random rotation, the singular values ``s`` fall geometrically from
    ``sqrt(n_samples)`` to ``sqrt(n_samples) / cond``, and ``c`` is a column
    offset of size ``offset``.  Then ``y = X coef + intercept + noise``.

    Parameters
    ----------
    n_samples, n_features : int, default=1000, 10
        Shape of X.
    cond : float, default=1.0
        Ratio of the largest to the smallest non-zero singular value, >= 1.
    rank : int, default=None
        If given, only the first ``rank`` singular values are non-zero.
    n_targets : int, default=1
        Number of targets; y is 1-D when 1.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to y.
    offset : float, default=0.0
        Scale of the random column means (tests centring).
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
    singular_values : ndarray of shape (min(n_samples - 1, n_features),)
        The singular values of the centred X.

    Examples
    --------
    >>> import numpy as np
    >>> X, y, s = make_spectral_regression(50, 4, cond=100.0, random_state=0)
    >>> np.linalg.cond(X - X.mean(axis=0)).round(6)
    np.float64(100.0)
    """
    rng = check_random_state(random_state)
    k = min(n_samples - 1, n_features)
    gaussian = rng.standard_normal((n_samples, k))
    gaussian -= gaussian.mean(axis=0)
    U, _ = np.linalg.qr(gaussian)
    V, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    s = np.sqrt(n_samples) * np.geomspace(1.0, 1.0 / cond, k)
    if rank is not None:
        s[rank:] = 0.0
    X = (U * s) @ V[:, :k].T + offset * rng.standard_normal(n_features)
    coef = rng.standard_normal((n_features, n_targets))
    y = X @ coef + rng.standard_normal(n_targets)
    y += noise * rng.standard_normal(y.shape)
    return X, (y.ravel() if n_targets == 1 else y), s
