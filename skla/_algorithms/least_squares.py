"""PinvRegressor's fit, wherever the rows are: two routes to one answer.

- **The rows at hand** (:func:`solve_rows`): the least-squares problem of
  the rows themselves, centred implicitly (:class:`~skla._data.LstsqProblem`),
  handed to the solver component; data near 1e±160 are solved scaled by
  powers of two (exact).
- **Their statistics** (:func:`solve_statistics`): a stream, a dask cluster
  or an array-API device reduces the rows to their
  :class:`~skla._algorithms.statistics.RowStatistics`;
  :func:`routed_statistics` decides which (the scatter matrix where its
  accuracy test passes, else the R factor), as the ``"auto"`` solver does
  on rows.

Both return an :class:`LstsqFit`: the coefficients, the intercept and the
spectrum that the estimator stores.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .._data import centred_problem
from ..components.lstsq import GRAM_TOL, GramAccuracyWarning
from ..components.penalties import L2, rescaled
from .lstsq import default_rtol, reported_singular_values
from .scaling import power_of_two_scale
from .statistics import ScatterRangeError

__all__ = ["LstsqFit", "routed_statistics", "solve_rows", "solve_statistics"]


class LstsqFit(NamedTuple):
    """A least-squares fit: ``coef`` (n_features, n_targets) and
    ``intercept`` (n_targets,) in float64, the rank and the singular values
    as ``singular_values_`` reports them (None where not computed; a
    function of no arguments where the solver deferred them), the method's
    name and the solver component (None from statistics)."""

    coef: np.ndarray
    intercept: np.ndarray
    rank: int | None
    singular_values: np.ndarray | Callable[[], np.ndarray] | None
    solver_used: str
    solver: object = None


def _rtol(rtol, shape, dtype, compute_dtype=np.float64):
    """``rtol``, or its default for a problem of ``shape``."""
    return default_rtol(*shape, dtype, compute_dtype) if rtol is None else rtol


def checked_solution(coef, expected, solver):
    """Refuse a solution of the wrong shape (``expected``, (n_features,
    n_targets)) or with non-finite values; ``solver`` is the parameter."""
    coef = np.asarray(coef, dtype=np.float64)
    if coef.shape != expected:
        raise ValueError(
            f"solver={solver!r} returned coefficients of shape {coef.shape}; "
            f"expected (n_features, n_targets) = {expected}."
        )
    if not np.isfinite(coef).all():
        raise FloatingPointError(
            f"solver={solver!r} returned non-finite coefficients; X or y may be "
            "too large for the floating-point range. Rescale the data or use "
            "solver='qr'."
        )
    return coef


def solve_rows(X, Y, sample_weight, solver, *, alpha, rtol, centre, x_scale, copy_X):
    """The fit of in-memory rows on ``cx·X`` and ``cy·Y``, scaled back (exact).

    The ridge becomes ``alpha·cx²`` on the scaled problem (with cx lowered
    if that would overflow: such a ridge dominates the data).  ``solver``
    is the component; ``copy_X=False`` lets it centre X in place.
    """
    _, alpha, cx = rescaled(L2(), float(alpha), x_scale)
    cy = power_of_two_scale(Y, sample=False)  # Y is small: read it all
    if cx != 1.0:
        X = X * cx  # a copy, only for such extreme data
    if cy != 1.0:
        Y = Y * cy
    problem = centred_problem(
        X, Y, sample_weight, centre=centre, overwrite_X=not copy_X or cx != 1.0
    )
    result = solver.solve(problem, alpha=alpha, rtol=_rtol(rtol, X.shape, X.dtype))
    expected = (problem.shape[1], problem.n_targets)
    coef = checked_solution(result.coef, expected, solver)
    intercept = np.zeros(problem.n_targets)
    if problem.X_offset is not None:
        intercept = (problem.Y_offset - problem.X_offset @ coef) / cy
    with np.errstate(over="ignore", under="ignore"):
        coef = coef * cx / cy
    s, rank = result.singular_values, result.rank
    if callable(s):  # deferred by the solver: computed when first read
        spectrum = s
        s = functools.partial(_reported_later, spectrum, rank, cx)
    else:
        s = reported_singular_values(s, rank, cx)
    return LstsqFit(coef, intercept, rank, s, result.solver, solver)


def _reported_later(spectrum, rank, scale):
    return reported_singular_values(spectrum(), rank, scale)


def routed_statistics(
    statistics_of, solver, shape, *, alpha, rtol, dtype, gram_first=True
):
    """The statistics of the rows, as the ``solver`` parameter asks.

    ``"gram"``: the scatter matrix.  ``"auto"``: the scatter matrix (half
    the flops of R, at BLAS-3 speed) when X (of ``shape``) has at least as
    many rows as columns and ``gram_first``, kept if its accuracy test
    passes -- else the R factor, a second pass, as ``"auto"`` falls back to
    QR on rows.
    Any other solver: the R factor.  ``statistics_of(gram)`` computes them
    (a ``ScatterRangeError``, or None, for squares that overflow).
    """
    if isinstance(solver, str) and solver == "gram":
        return statistics_of(gram=True)
    tall = shape[0] >= shape[-1]
    if isinstance(solver, str) and solver == "auto" and gram_first and tall:
        try:
            statistics = statistics_of(gram=True)
        except ScatterRangeError:
            statistics = None
        if statistics is not None and _gram_is_accurate(statistics, alpha, rtol, dtype):
            return statistics
    return statistics_of(gram=False)


def _gram_is_accurate(statistics, alpha, rtol, dtype):
    """``"auto"``'s test: the scatter matrix's estimated error of the
    coefficients is at most ``GRAM_TOL`` (data whose squares overflow fail)."""
    if not np.isfinite(statistics.S).all():
        return False
    shape = (statistics.n_rows, statistics.n_features)
    *_, error = statistics.solve(float(alpha), _rtol(rtol, shape, dtype))
    return error <= GRAM_TOL


def solve_statistics(
    statistics, solver, *, alpha, rtol, dtype, how, compute=np.float64
):
    """The fit from row statistics computed in ``compute``; ``how`` names
    the route (``"dask"``, ``"streamed"``...), ``solver`` the parameter.
    Warns as ``"gram"`` does when the scatter matrix's estimated error is
    above ``GRAM_TOL``."""
    shape = (statistics.n_rows, statistics.n_features)
    rtol = _rtol(rtol, shape, dtype, compute)
    coef, intercept, rank, s, error = statistics.solve(float(alpha), rtol)
    if statistics.S is not None and error > GRAM_TOL:
        warnings.warn(
            f"solver='gram' squares the condition number of X: the estimated "
            f"relative error of the coefficients is {error:.1e}. Use "
            "solver='auto' (the R factor) for an accurate answer.",
            GramAccuracyWarning,
            stacklevel=4,
        )
    expected = (statistics.n_features, statistics.n_targets)
    coef = checked_solution(coef, expected, solver)
    if intercept is None:
        intercept = np.zeros(statistics.n_targets)
    kept = "gram" if statistics.S is not None else "qr"
    s = reported_singular_values(s, rank)
    return LstsqFit(coef, np.asarray(intercept, float), rank, s, f"{kept} ({how})")
