"""A chunk's R factor by certified Cholesky (issue 25): as accurate as the
stream needs, and only where the condition estimate allows it."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skla import PinvRegressor
from skla._algorithms import statistics as statistics_module
from skla._algorithms.statistics import RowStatistics
from skla.components.lstsq import GRAM_TOL
from skla.datasets import make_spectral_regression


def regression(n=3000, d=8, cond=10.0, seed=0, noise=1.0):
    X, y, _ = make_spectral_regression(
        n, d, cond=cond, noise=noise, offset=3.0, random_state=seed
    )
    return X, y[:, None]


def spy_on_cholesky(monkeypatch):
    calls = []
    real = statistics_module.certified_cholesky

    def spy(*args, **kwargs):
        factor = real(*args, **kwargs)
        calls.append(factor is not None)
        return factor

    monkeypatch.setattr(statistics_module, "certified_cholesky", spy)
    return calls


@pytest.mark.parametrize("weighted", [False, True])
def test_a_certified_chunk_r_is_the_householder_r(monkeypatch, weighted):
    X, Y = regression()
    w = np.random.default_rng(1).uniform(0, 2, len(X)) if weighted else None
    calls = spy_on_cholesky(monkeypatch)
    fast = RowStatistics.of(X, Y, w, centre=True, cholesky_tol=GRAM_TOL)
    exact = RowStatistics.of(X, Y, w, centre=True)
    assert calls == [True]
    # R is unique up to the signs of its rows.
    assert_allclose(np.abs(fast.R), np.abs(exact.R), rtol=1e-11, atol=1e-11 * 1e3)
    assert_allclose(fast.mean, exact.mean, rtol=1e-14)
    Z = np.hstack([X, Y]) - fast.mean
    Z = Z * np.sqrt(w)[:, None] if weighted else Z
    assert_allclose(fast.R.T @ fast.R, Z.T @ Z, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize(
    "case", ["cond 1e6", "y exactly linear", "fewer rows than columns"]
)
def test_chunks_the_estimate_cannot_certify_take_tsqr(monkeypatch, case):
    X, Y = regression(cond=1e6 if case == "cond 1e6" else 10.0)
    if case == "y exactly linear":
        Y = X @ np.arange(8.0)[:, None] + 1.0
    if case == "fewer rows than columns":
        X, Y = X[:5], Y[:5]
    calls = spy_on_cholesky(monkeypatch)
    fast = RowStatistics.of(X, Y, None, centre=True, cholesky_tol=GRAM_TOL)
    exact = RowStatistics.of(X, Y, None, centre=True)
    assert calls == [False]
    # TSQR (not Cholesky: the signs of R's rows agree), about the same mean.
    assert_allclose(fast.R, exact.R, rtol=1e-9, atol=1e-12 * np.abs(exact.R).max())


@pytest.mark.parametrize("cond", [10.0, 1e6])
def test_an_auto_stream_is_as_accurate_as_lapack(cond):
    X, Y = regression(n=8000, cond=cond, noise=1e-3)
    model = PinvRegressor()
    for rows in np.array_split(np.arange(len(X)), 8):
        model.partial_fit(X[rows], Y[rows, 0])
    Xc = X - X.mean(0)
    exact = np.linalg.lstsq(Xc, Y[:, 0] - Y.mean(), rcond=None)[0]
    error = np.linalg.norm(model.coef_ - exact) / np.linalg.norm(exact)
    assert error < 1e-7 if cond > 1e3 else error < 1e-12


def test_other_solvers_never_take_the_cholesky_route(monkeypatch):
    X, Y = regression()
    calls = spy_on_cholesky(monkeypatch)
    for solver in ("qr", "svd", "lsqr"):
        PinvRegressor(solver=solver).partial_fit(X, Y[:, 0])
    assert calls == []
    PinvRegressor().partial_fit(X, Y[:, 0])
    assert calls == [True]
