"""Find skla's public estimators, so tests never list them by hand."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    RegressorMixin,
    TransformerMixin,
)

__all__ = ["all_estimators"]

_TYPES = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
    "cluster": ClusterMixin,
}


def all_estimators(type_filter=None):
    """Public skla estimators, as ``(name, class)`` pairs sorted by name.

    Walks every module of the package and keeps the public, concrete
    :class:`~sklearn.base.BaseEstimator` subclasses that have a ``fit``
    method (components subclass BaseEstimator for their parameters, but do not
    fit).

    Parameters
    ----------
    type_filter : {"regressor", "transformer", "classifier", "cluster"} or \
list of them, default=None
        Keep only estimators of these types.

    Returns
    -------
    estimators : list of (str, type)

    Examples
    --------
    >>> from skla.utils.discovery import all_estimators
    >>> [name for name, _ in all_estimators("regressor")]
    ['GDRegressor', 'PinvRegressor', 'SGDMiniBatchRegressor']
    >>> [name for name, _ in all_estimators("transformer")]
    ['TruncatedSVDCompressor']
    """
    import skla

    found = {}
    for module_info in pkgutil.walk_packages(skla.__path__, prefix="skla."):
        if ".tests" in module_info.name or module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and cls.__module__.startswith("skla.")
                and not name.startswith("_")
                and callable(getattr(cls, "fit", None))
                and not inspect.isabstract(cls)
            ):
                found[name] = cls
    if type_filter is not None:
        wanted = [type_filter] if isinstance(type_filter, str) else list(type_filter)
        unknown = set(wanted) - set(_TYPES)
        if unknown:
            raise ValueError(
                f"type_filter must be None or among {sorted(_TYPES)}; got "
                f"{sorted(unknown)}."
            )
        mixins = tuple(_TYPES[t] for t in wanted)
        found = {n: c for n, c in found.items() if issubclass(c, mixins)}
    return sorted(found.items())
