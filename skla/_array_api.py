"""Arrays of any array-API namespace (torch, cupy, ...): heavy passes there.

With ``sklearn.set_config(array_api_dispatch=True)`` an estimator handed the
arrays of another namespace keeps them there: the passes over X -- its
mean, the scatter matrix ``ZᵀZ`` or the R factor of ``Z = [X, Y]`` centred
and weighted, the products of a randomized range finder, ``predict`` and
``transform`` -- run in that namespace, on that device (where a GPU is
fastest).  Only their results, ``(d + k)²`` numbers, come to numpy, where
the small factorisations and solvers that skla's other routes use (streams,
dask) finish the fit; the fitted arrays then go back to the namespace and
device of X.  The same :class:`~skla._algorithms.statistics.RowStatistics`
serve here, so the answers are those of those routes.

numpy input never comes here: it takes the numpy code, dispatch or not.
"""

from __future__ import annotations

import numpy as np

from ._algorithms.statistics import RowStatistics

__all__ = [
    "Namespace",
    "namespace_of",
    "row_statistics",
    "unsupported",
]


class Namespace:
    """The namespace and device of an estimator's input, and conversions."""

    def __init__(self, xp, device):
        self.xp, self.device = xp, device
        self.name = getattr(xp, "__name__", str(xp))

    def asarray(self, a, dtype=None):
        """A numpy (or namespace) array as an array of this namespace and device."""
        a = np.asarray(a) if isinstance(a, np.ndarray) else a
        return self.xp.asarray(a, dtype=dtype, device=self.device)

    def follow(self, *arrays):
        """``y``, ``sample_weight``... moved to X's namespace and device (None
        stays None; lists become arrays): everything follows X."""
        from sklearn.utils._array_api import move_to

        moved = [
            a if a is None or hasattr(a, "__array_namespace__") else np.asarray(a)
            for a in arrays
        ]
        moved = move_to(*moved, xp=self.xp, device=self.device)
        return moved if len(arrays) > 1 else (moved,)

    def to_numpy(self, a):
        """An array of this namespace as a numpy array (on the host)."""
        from sklearn.utils._array_api import _convert_to_numpy

        return np.asarray(_convert_to_numpy(a, self.xp))

    def move_attributes(self, estimator, names):
        """The fitted numpy arrays ``names`` of ``estimator``, moved here
        (a numpy scalar becomes a 0-d array, as scikit-learn's ``intercept_``)."""
        for name in names:
            value = getattr(estimator, name, None)
            if isinstance(value, (np.ndarray, np.generic)):  # scalars too: 0-d
                setattr(estimator, name, self.asarray(value))


def namespace_of(X):
    """The :class:`Namespace` of X under ``array_api_dispatch``, or None:
    dispatch off, or X numpy, a list, sparse (the numpy route)."""
    from sklearn import get_config

    if not get_config()["array_api_dispatch"] or not hasattr(X, "__array_namespace__"):
        return None
    from sklearn.utils._array_api import _is_numpy_namespace, get_namespace_and_device

    xp, is_array_api, device = get_namespace_and_device(X)
    if not is_array_api or _is_numpy_namespace(xp):
        return None
    return Namespace(xp, device)


def unsupported(what, ns):
    """The error for a component or option without an array-API route."""
    return ValueError(
        f"{what} has no array-API route: it runs on numpy arrays only, and "
        f"the input is {ns.name}. Pass numpy arrays, or turn "
        "array_api_dispatch off (the data are then converted to numpy)."
    )


def row_statistics(ns, X, Y, sample_weight, *, centre, gram, ranges=False):
    """The :class:`RowStatistics` of all rows of namespace arrays, one pass.

    ``Z = [X, Y]`` is centred by its weighted mean and weighted by
    ``√w`` on the device (one copy of Z there); the scatter matrix ``ZᵀZ``
    (``gram``) or the R factor of Z (``xp.linalg.qr``) comes to numpy in
    float64.  ``Y`` None: no targets (an SVD of X).
    """
    xp = ns.xp
    n, d = X.shape
    Z = X if Y is None else xp.concat([X, xp.astype(Y, X.dtype)], axis=1)
    k = Z.shape[1] - d
    if sample_weight is None:
        weight = float(n)
        mean = xp.mean(Z, axis=0) if centre else None
    else:
        w = xp.astype(sample_weight, X.dtype)
        weight = float(xp.sum(w))
        if not weight > 0:
            raise ValueError("sample_weight sums to zero: there is nothing to fit.")
        mean = xp.sum(Z * w[:, None], axis=0) / weight if centre else None
    if mean is not None:
        Z = Z - mean
    if sample_weight is not None:
        Z = Z * xp.sqrt(w)[:, None]
    low = high = None
    if ranges:
        low = ns.to_numpy(xp.min(X, axis=0)).astype(np.float64)
        high = ns.to_numpy(xp.max(X, axis=0)).astype(np.float64)
    mean = None if mean is None else ns.to_numpy(mean).astype(np.float64)
    if gram:
        S = ns.to_numpy(Z.T @ Z).astype(np.float64)
        return RowStatistics(d, k, n, weight, mean, None, low, high, S)
    R = np.zeros((d + k, d + k))
    if n:
        r = ns.to_numpy(xp.linalg.qr(Z)[1]).astype(np.float64)
        R[: r.shape[0]] = np.triu(r)
    return RowStatistics(d, k, n, weight, mean, R, low, high)
