"""SVD solvers through :func:`scipy.sparse.linalg.svds`: ARPACK and PROPACK.

The components ``"arpack"`` and ``"propack"``; the numerics (a skinny X
through its R factor, larger Krylov budgets, the LAPACK fallback) are
:func:`skla._algorithms.svd.lanczos_svd`.  The protocol is
:class:`~skla.components.svd.SVDSolver`.
"""

from __future__ import annotations

from .._algorithms.svd import lanczos_svd
from ..plugins import register
from ._base import Component
from .svd import SVDResult

__all__ = ["ArpackSVD", "PropackSVD"]


class _SvdsSolver(Component):
    """scipy.sparse.linalg.svds with a fixed solver, sorted and deterministic."""

    solver: str | None = None

    def __init__(self, tol=0.0):
        self.tol = tol

    def svd(self, X, n_components, *, random_state=None, compute_u=True):
        limit = min(X.shape)
        if n_components >= limit:
            raise ValueError(
                f"algorithm={self.solver!r} finds fewer than min(n_samples, "
                f"n_features) = {limit} components; got n_components="
                f"{n_components}. Use algorithm='full' or 'randomized'."
            )
        U, s, Vt = lanczos_svd(
            X,
            n_components,
            solver=self.solver,
            tol=self.tol,
            random_state=random_state,
            compute_u=compute_u,
        )
        # Converged to machine precision (tol=0), U Σ is X V; to a looser
        # tol, only to that tol.
        return SVDResult(U if compute_u or self.tol == 0 else None, s, Vt)


@register("svd_solver", "arpack")
class ArpackSVD(_SvdsSolver):
    """Implicitly restarted Lanczos (ARPACK) on XᵀX, via scipy's ``svds``.

    Parameters
    ----------
    tol : float, default=0.0
        Relative accuracy of the singular values; 0 is machine precision.

    Examples
    --------
    >>> import numpy as np
    >>> ArpackSVD().svd(np.diag([3.0, 1.0, 2.0]), 2, random_state=0).s
    array([3., 2.])
    """

    solver = "arpack"


@register("svd_solver", "propack")
class PropackSVD(_SvdsSolver):
    """Lanczos bidiagonalisation with partial reorthogonalisation (PROPACK).

    Parameters
    ----------
    tol : float, default=0.0
        Relative accuracy of the singular values; 0 is machine precision.

    Examples
    --------
    >>> import numpy as np
    >>> PropackSVD().svd(np.diag([3.0, 1.0, 2.0]), 2, random_state=0).s
    array([3., 2.])
    """

    solver = "propack"
