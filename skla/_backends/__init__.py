"""Where the rows live: one backend per kind of input, one function to pick.

=================  ========================================================
module             input, and how each fit runs there
=================  ========================================================
``memory``         numpy arrays, scipy.sparse CSR/CSC: the solver
                   components and the SGD engine on the rows themselves
``stream``         ``partial_fit``'s chunks (in memory, on dask or on a
                   device): their row statistics merged exactly, call by
                   call
``dask``           dask arrays, DataFrames, Series: row statistics reduced
                   in a tree, map-reduces of a loss, the range finder's
                   products, SGD's ``partial_fit`` at the chunks; lazy
                   outputs
``array_api``      torch, cupy, array_api_strict... (with
                   ``array_api_dispatch``): the passes on X's device, the
                   small solves in numpy, the fitted arrays back there
=================  ========================================================

Every backend has the operations of :class:`~.base.Backend`, so an
estimator's ``fit`` is one path: ``backend_for(X)``, ``validate``, ask the
backend for statistics or passes, solve, set the attributes, ``publish``.
Data flow one way: estimator → backend → algorithm → component.
"""

from __future__ import annotations

from ..utils._typing import MatrixLike
from .base import Backend, FitData
from .memory import MEMORY

__all__ = ["Backend", "FitData", "backend_for"]


def backend_for(X: MatrixLike) -> Backend:
    """The backend of input X: dask for a dask collection, the array API
    for an array of another namespace under ``array_api_dispatch``, memory
    for everything else (numpy, scipy.sparse, lists, pandas...).

    Examples
    --------
    >>> import numpy as np
    >>> backend_for(np.ones((2, 2))).name
    'numpy'
    """
    from .dask.rows import is_dask_collection

    if is_dask_collection(X):
        from .dask import Dask

        return Dask()
    from .array_api.namespace import namespace_of

    ns = namespace_of(X)
    if ns is not None:
        from .array_api import ArrayAPI

        return ArrayAPI(ns)
    return MEMORY
