"""The types in skla's annotations: its data, and its typed ``_fit_context``.

skla ships a ``py.typed`` marker (PEP 561), so type checkers read these
annotations; ``python -m mypy skla`` checks them (settings in setup.cfg).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

__all__ = ["ArrayResult", "MatrixLike", "fit_context"]

#: The data the estimators take (X, y, ``sample_weight``, ``coef_init``): a
#: numpy array or anything :func:`numpy.asarray` reads (lists, pandas), a
#: scipy.sparse matrix or array, a dask array, DataFrame or Series, or an
#: array of an array-API namespace (torch, cupy...) under
#: ``array_api_dispatch``.  ``Any``: no type covers them all without
#: importing the optional packages; :func:`skla._backends.backend_for` sorts
#: them at run time, and validation refuses the rest.
MatrixLike: TypeAlias = Any

#: An estimator's array output (``predict``, ``transform``...): a numpy array
#: for numpy, sparse or pandas input, a lazy dask array for dask input, an
#: array of X's namespace and device for array-API input.
ArrayResult: TypeAlias = Any

_Method = TypeVar("_Method", bound=Callable[..., Any])

if TYPE_CHECKING:
    # scikit-learn has no type information: its decorator would make every
    # decorated method Any.  To the checker it keeps the method's signature.
    def fit_context(
        *, prefer_skip_nested_validation: bool
    ) -> Callable[[_Method], _Method]: ...

else:
    from sklearn.base import _fit_context as fit_context
