"""The Gram pass that computes the mean on the way (issue 25): the same
matrices and mean as centring on the exact mean first."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skla._data import LstsqProblem, weighted_mean
from skla._data.gram import dense_gram


def reference(X, Y, w):
    """G, AᵀB and the mean, by numpy on the explicitly centred data."""
    w = np.ones(len(X)) if w is None else w
    mu = (w @ X.astype(np.float64)) / w.sum()
    nu = (w @ Y.astype(np.float64)) / w.sum()
    A = np.sqrt(w)[:, None] * (X - mu)
    B = np.sqrt(w)[:, None] * (Y - nu)
    return A.T @ A, A.T @ B, mu, nu


def problem_of(X, Y, w):
    return LstsqProblem(X, Y, w, "mean", weighted_mean(Y, w))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "data", ["plain", "offset 1e8", "sorted with a trend", "few rows"]
)
def test_gram_with_the_mean_on_the_way_is_the_centred_gram(data, dtype, weighted):
    rng = np.random.default_rng(0)
    n = 7 if data == "few rows" else 5000
    X = rng.standard_normal((n, 4)) * [1.0, 10.0, 0.1, 3.0]
    if data == "offset 1e8":
        X += 1e8 if dtype == np.float64 else 1e4
    if data == "sorted with a trend":  # the sample mean is far from the mean
        X[:, 0] = np.sort(rng.exponential(size=n)) * 1e3
    Y = X @ [[1.0, 0.5], [2.0, 0.0], [0.0, 1.0], [1.0, 1.0]] + rng.standard_normal(
        (n, 2)
    )
    w = rng.uniform(0, 3, n) if weighted else None
    if weighted:
        w[::5] = 0.0
    X, Y = X.astype(dtype), Y.astype(dtype)
    G, AtB, mu, _ = reference(X, Y, w)
    problem = problem_of(X, Y, w)
    assert problem.mean_pending
    gram = dense_gram(problem, n_rows=997)  # several blocks, a ragged last
    scale = np.sqrt(np.outer(np.diag(G), np.diag(G)))
    assert np.all(np.abs(gram.G - G) <= 1e-11 * scale)
    assert_allclose(gram.AtB, AtB, rtol=1e-10, atol=1e-11 * np.abs(AtB).max())
    assert not problem.mean_pending
    assert_allclose(problem.X_offset, mu, rtol=1e-13, atol=1e-13 * np.abs(X).max())
    # What it cancelled is in the rounding bound, and is small.
    assert 0.0 <= gram.offset_scale <= 0.1 * np.trace(G)


def test_a_sample_far_from_the_mean_repeats_the_pass_about_the_mean():
    # Every sampled row (one in five) is 1e4 away from the rest.
    X = np.zeros((5120, 2))
    X[::5] = 1e4
    X[1::5, 1] = 1.0
    problem = problem_of(X, X[:, :1], None)
    gram = dense_gram(problem)
    G, _, mu, _ = reference(X, X[:, :1], None)
    assert gram.offset_scale == 0.0  # recomputed about the mean: no correction
    assert_allclose(gram.G, G, rtol=1e-12)
    assert_allclose(problem.X_offset, mu, rtol=1e-15)


def test_a_pending_mean_is_computed_when_read():
    rng = np.random.default_rng(1)
    X, w = rng.standard_normal((50, 3)), rng.uniform(size=50)
    problem = problem_of(X, X[:, :1], w)
    assert_allclose(problem.X_offset, (w @ X) / w.sum(), rtol=1e-14)
    with pytest.raises(ValueError, match="set already"):
        problem.set_mean(np.zeros(3))


def test_an_unknown_offset_name_is_refused():
    with pytest.raises(ValueError, match=r"'median'.*'mean' or None"):
        LstsqProblem(np.ones((2, 1)), np.ones((2, 1)), None, "median", None)
