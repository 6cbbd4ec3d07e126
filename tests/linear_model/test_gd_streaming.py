"""GDRegressor.partial_fit (squared loss): after every chunk, fit on all rows."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.linear_model import Lasso

from skla import GDRegressor


def data(seed=0, n=3000, d=10, targets=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d) + 5.0
    shape = (n,) if targets is None else (n, targets)
    coef = rng.standard_normal((d,) if targets is None else (d, targets))
    coef[: d // 3] = 0.0  # zeros for the l1 penalty to find
    y = X @ coef + 2.0 + rng.standard_normal(shape)
    return X, y, rng.uniform(0.2, 2.0, n)


def relative(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_every_call_equals_fit_on_the_rows_so_far(penalty, fit_intercept):
    X, y, w = data()
    params = {"penalty": penalty, "alpha": 0.05, "fit_intercept": fit_intercept}
    streamed = GDRegressor(tol=1e-10, **params)
    for chunk in np.array_split(np.arange(len(y)), 5):
        streamed.partial_fit(X[chunk], y[chunk], sample_weight=w[chunk])
        n = chunk[-1] + 1
        full = GDRegressor(tol=1e-10, **params).fit(X[:n], y[:n], w[:n])
        assert relative(streamed.coef_, full.coef_) < 1e-6
        assert abs(streamed.intercept_ - full.intercept_) <= 1e-6 * max(
            1.0, abs(full.intercept_)
        )
        if penalty == "l1":
            assert_array_equal(streamed.coef_ == 0, full.coef_ == 0)


def test_streaming_lasso_is_lasso():
    """An exact streaming Lasso: sklearn's Lasso on all rows, zeros included."""
    X, y, _ = data(seed=1)
    streamed = GDRegressor(penalty="l1", alpha=0.1, tol=1e-12)
    for chunk in np.array_split(np.arange(len(y)), 8):
        streamed.partial_fit(X[chunk], y[chunk])
    lasso = Lasso(alpha=0.1, tol=1e-12, max_iter=100_000).fit(X, y)
    assert relative(streamed.coef_, lasso.coef_) < 1e-6
    assert_array_equal(streamed.coef_ == 0, lasso.coef_ == 0)
    assert (lasso.coef_ == 0).sum() >= 3


def test_several_targets_sparse_chunks_and_float32():
    X, Y, _ = data(seed=2, n=1200, d=6, targets=2)
    streamed = GDRegressor(penalty="l2", alpha=0.01, tol=1e-10)
    for chunk in np.array_split(np.arange(1200), 3):
        streamed.partial_fit(sp.csr_matrix(X[chunk]), Y[chunk])
    full = GDRegressor(penalty="l2", alpha=0.01, tol=1e-10).fit(X, Y)
    assert streamed.coef_.shape == (2, 6)
    assert relative(streamed.coef_, full.coef_) < 1e-6
    f32 = GDRegressor(tol=1e-8)
    for chunk in np.array_split(np.arange(1200), 3):
        f32.partial_fit(X[chunk].astype(np.float32), Y[chunk, 0].astype(np.float32))
    assert f32.coef_.dtype == np.float32
    assert relative(f32.coef_, GDRegressor(tol=1e-10).fit(X, Y[:, 0]).coef_) < 1e-4


def test_a_constant_column_gets_a_zero_coefficient():
    X, y, _ = data(seed=3, n=2000, d=4)
    X[:, 2] = 1.1
    streamed = GDRegressor(tol=1e-10)
    for chunk in np.array_split(np.arange(2000), 4):
        streamed.partial_fit(X[chunk], y[chunk])
    assert streamed.coef_[2] == 0.0


@pytest.mark.parametrize("loss", ["huber", "rmse", "epsilon_insensitive"])
def test_other_losses_point_to_sgd(loss):
    X, y, _ = data(n=50, d=3)
    with pytest.raises(ValueError, match=r"SGDMiniBatchRegressor\.partial_fit"):
        GDRegressor(loss=loss).partial_fit(X, y)


def test_refused_chunks_change_nothing_and_fit_starts_over():
    X, y, _ = data(seed=4, n=200, d=3)
    est = GDRegressor(tol=1e-10).partial_fit(X[:100], y[:100])
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match="X has 4 features"):
        est.partial_fit(np.ones((5, 4)), np.ones(5))
    with pytest.raises(ValueError, match="y has 2 target"):
        est.partial_fit(X[:5], np.ones((5, 2)))
    assert_array_equal(est.coef_, coef)
    with pytest.warns(UserWarning, match="after fit starts a new stream"):
        est.fit(X[100:], y[100:]).partial_fit(X[:100], y[:100])
    assert relative(est.coef_, coef) < 1e-9  # fit dropped the statistics


@pytest.mark.parametrize("seed", range(10))
def test_noise_free_streams_do_not_diverge(seed):
    """y exactly linear: the warm start of the second chunk is already at
    the optimum (objective 0), and rounding noise is no divergence."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 4))
    y = X @ rng.standard_normal(4) + 2.0
    est = GDRegressor(tol=1e-10).partial_fit(X[:20], y[:20])
    est.partial_fit(X[20:], y[20:])
    assert relative(est.coef_, GDRegressor(tol=1e-10).fit(X, y).coef_) < 1e-6


@pytest.mark.parametrize("scale", [1e-170, 1e160])
def test_extreme_data_are_refused_not_wrong(scale):
    """The scatter matrix of such data over- or underflows, and a stream
    cannot rescale later chunks: a clear error instead of zeros."""
    X, y, _ = data(n=50, d=3)
    with pytest.raises(ValueError, match="over- or underflow"):
        GDRegressor().partial_fit(X * scale, y)


def test_an_extreme_row_the_sample_misses_is_refused():
    """One row of 1e170 among 20000 ordinary ones, outside the strided sample
    that decides cheaply: its square overflows the scatter matrix, caught."""
    X, y, _ = data(n=20_000, d=3)
    X[1] = 1e170
    with pytest.raises(ValueError, match="over- or underflow"):
        GDRegressor().partial_fit(X, y)
