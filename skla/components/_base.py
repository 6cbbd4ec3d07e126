"""What every component shares: its parameters, the scikit-learn way."""

from sklearn.base import BaseEstimator

__all__ = ["Component"]


class Component(BaseEstimator):
    """Base class for skla's components.

    Subclassing :class:`sklearn.base.BaseEstimator` gives a component
    ``get_params``/``set_params``, a readable ``repr`` and support for
    :func:`sklearn.base.clone`, so that a component passed as an estimator
    parameter is searchable with nested names such as ``solver__atol``.
    Components have no ``fit`` and are not estimators; third-party components
    need not subclass this at all -- the protocol is only the methods.
    """
