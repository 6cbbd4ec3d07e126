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

from numbers import Real

import numpy as np
from sklearn.externals.array_api_compat import is_array_api_obj

from ..._algorithms.statistics import RowStatistics, ScatterRangeError

__all__ = [
    "Namespace",
    "namespace_of",
    "row_statistics",
    "unsupported",
]


class Namespace:
    """The namespace and device of an estimator's input, and conversions."""

    def __init__(self, xp, device):
        from sklearn.utils._array_api import _max_precision_float_dtype

        self.xp, self.device = xp, device
        self.name = getattr(xp, "__name__", str(xp))
        # Sums run in float64 where the device has it (a float32 sum of 1e5
        # products loses 1e-4; the numpy routes sum in float64 too).
        self.accumulate = _max_precision_float_dtype(xp, device)
        self.has_float64 = self.accumulate == xp.float64

    def __str__(self):
        """The namespace and the device, as errors name them."""
        return f"{self.name} (device {self.device})"

    def asarray(self, a, dtype=None):
        """A numpy array as an array of this namespace and device (float64
        as float32 where the device has no float64)."""
        a = np.asarray(a)
        if not self.has_float64 and a.dtype == np.float64:
            a = a.astype(np.float32)
        return self.xp.asarray(a, dtype=dtype, device=self.device)

    def follow(self, *arrays):
        """``y``, ``sample_weight``... moved to X's namespace and device (None
        and Python scalars stay as they are; lists become arrays): everything
        follows X."""
        from sklearn.utils._array_api import move_to

        def movable(a):
            if a is None or isinstance(a, Real):
                return None
            return a if is_array_api_obj(a) else np.asarray(a)

        moved = move_to(*map(movable, arrays), xp=self.xp, device=self.device)
        moved = moved if len(arrays) > 1 else (moved,)
        pairs = zip(arrays, moved, strict=True)
        return tuple(a if isinstance(a, Real) else m for a, m in pairs)

    def to_numpy(self, a):
        """An array of this namespace as a numpy array (on the host)."""
        from sklearn.utils._array_api import _convert_to_numpy

        if isinstance(a, (np.ndarray, np.generic, Real)):
            return np.asarray(a)
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
    dispatch off, or X numpy, a list, sparse, a dask array (their routes).

    torch tensors have no ``__array_namespace__``: scikit-learn's vendored
    ``array_api_compat`` recognises them (and CuPy's, JAX's...) by class.
    """
    from sklearn import get_config

    if not get_config()["array_api_dispatch"] or not is_array_api_obj(X):
        return None
    from sklearn.utils._array_api import _is_numpy_namespace, get_namespace_and_device

    if type(X).__module__.split(".")[0] == "dask":
        return None
    xp, is_array_api, device = get_namespace_and_device(X)
    if not is_array_api or _is_numpy_namespace(xp):
        return None
    return Namespace(xp, device)


def unsupported(what, ns):
    """The error for a component or option without an array-API route."""
    return ValueError(
        f"{what} has no array-API route: it runs on numpy arrays only, and "
        f"the input is {ns.name}. Pass numpy arrays (for a torch tensor, "
        "X.cpu().numpy())."
    )


def row_statistics(ns, X, Y, sample_weight, *, centre, gram, ranges=False):
    """The :class:`RowStatistics` of all rows of namespace arrays, one pass.

    ``Z = [X, Y]`` is copied to the accumulation dtype (float64 where the
    device has it), centred by its weighted mean (two passes: the mean of
    the residuals corrects the first, as a float32 mean alone cannot) and
    weighted by ``√w`` on the device; the scatter matrix ``ZᵀZ`` (``gram``)
    or the R factor of Z (``xp.linalg.qr``) comes to numpy in float64.  At
    its peak, two copies of Z are on the device.  ``Y`` None: no targets
    (an SVD of X).

    Raises
    ------
    ScatterRangeError
        With ``gram``, when squares of X or Y overflow the scatter matrix.
    """
    xp, dtype = ns.xp, ns.accumulate
    n, d = X.shape
    parts = [X] if Y is None else [X, Y]
    Z = xp.concat([xp.astype(a, dtype) for a in parts], axis=1)
    k = Z.shape[1] - d
    w = None if sample_weight is None else xp.astype(sample_weight, dtype)
    weight = float(n) if w is None else float(xp.sum(w))
    mean = None
    if centre and n:
        mean = _weighted_mean(xp, Z, w, weight)
        mean = mean + _weighted_mean(xp, Z - mean, w, weight)
        Z = Z - mean
    if w is not None:
        Z = Z * xp.sqrt(w)[:, None]
    low = high = None
    if ranges:
        low = ns.to_numpy(xp.min(X, axis=0)).astype(np.float64)
        high = ns.to_numpy(xp.max(X, axis=0)).astype(np.float64)
    mean = None if mean is None else ns.to_numpy(mean).astype(np.float64)
    if not centre:
        mean = None
    elif mean is None:
        mean = np.zeros(d + k)
    if gram:
        with np.errstate(over="ignore"):  # array-api-strict computes in numpy
            S = ns.to_numpy(Z.T @ Z).astype(np.float64)
        if not np.isfinite(S).all():
            raise ScatterRangeError(
                "X or y has entries whose squares overflow the scatter matrix: "
                "rescale the data (e.g. by a power of two)."
            )
        return RowStatistics(d, k, n, weight, mean, None, low, high, S)
    R = np.zeros((d + k, d + k))
    if n:
        r = ns.to_numpy(xp.linalg.qr(Z)[1]).astype(np.float64)
        R[: r.shape[0]] = np.triu(r)
    return RowStatistics(d, k, n, weight, mean, R, low, high)


def _weighted_mean(xp, Z, w, weight):
    if w is None:
        return xp.mean(Z, axis=0)
    return xp.sum(Z * w[:, None], axis=0) / weight
