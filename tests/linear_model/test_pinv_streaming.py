"""PinvRegressor.partial_fit: after every chunk, the fit of all rows seen."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import Ridge

from skla import PinvRegressor
from skla._algorithms.statistics import RowStatistics
from skla.datasets import make_spectral_regression


def stream(estimator, X, y, n_chunks, sample_weight=None, *, check=None):
    """partial_fit over ``n_chunks`` row chunks; ``check(est, rows)`` after each."""
    for chunk in np.array_split(np.arange(X.shape[0]), n_chunks):
        w = None if sample_weight is None else sample_weight[chunk]
        estimator.partial_fit(X[chunk], y[chunk], sample_weight=w)
        if check is not None:
            check(estimator, chunk[-1] + 1)
    return estimator


def relative(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b))


def test_every_call_equals_fit_on_the_rows_so_far():
    """Well-conditioned data: coef_, intercept_, rank_ and singular_values_
    after each chunk are fit's on the rows seen, to 1e-10."""
    X, y, _ = make_spectral_regression(
        3000, 20, cond=10.0, noise=1.0, offset=50.0, random_state=0
    )

    def check(streamed, n):
        full = PinvRegressor().fit(X[:n], y[:n])
        qr = PinvRegressor(solver="qr").fit(X[:n], y[:n])
        assert relative(streamed.coef_, full.coef_) < 1e-10
        assert abs(streamed.intercept_ - full.intercept_) < 1e-10 * abs(full.intercept_)
        assert streamed.rank_ == qr.rank_ == 20
        assert relative(streamed.singular_values_, qr.singular_values_) < 1e-10

    streamed = stream(PinvRegressor(), X, y, 7, check=check)
    assert streamed.solver_used_ == "qr (streamed)"


def test_ill_conditioned_data_keep_qrs_accuracy():
    """cond(X) = 1e6, where the normal equations lose 1e-4: the streamed R
    factor agrees with fit ("auto", which takes QR here) to 1e-7."""
    X, y, _ = make_spectral_regression(
        5000, 30, cond=1e6, noise=0.1, offset=10.0, random_state=1
    )
    full = PinvRegressor().fit(X, y)
    assert full.solver_used_ == "qr"
    streamed = stream(PinvRegressor(), X, y, 9)
    assert relative(streamed.coef_, full.coef_) < 1e-7
    assert relative(streamed.singular_values_, full.singular_values_) < 1e-9


def test_rank_deficient_rows_give_the_minimum_norm_answer():
    X, y, _ = make_spectral_regression(2000, 12, rank=7, noise=0.5, random_state=2)
    full = PinvRegressor().fit(X, y)
    streamed = stream(PinvRegressor(), X, y, 5)
    assert streamed.rank_ == full.rank_ == 7
    assert relative(streamed.coef_, full.coef_) < 1e-9
    reference = np.linalg.pinv(X - X.mean(0)) @ (y - y.mean())
    assert relative(streamed.coef_, reference) < 1e-9


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 3.0])
def test_weights_ridge_and_several_targets(fit_intercept, alpha):
    """Weights (zeros among them), ridge and two targets: Ridge's answer."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((600, 6)) + 4.0
    Y = X @ rng.standard_normal((6, 2)) + rng.standard_normal((600, 2))
    w = rng.uniform(0, 2, 600)
    w[::7] = 0.0
    est = PinvRegressor(fit_intercept=fit_intercept, alpha=alpha)
    streamed = stream(est, X, Y, 6, w)
    full = PinvRegressor(fit_intercept=fit_intercept, alpha=alpha).fit(X, Y, w)
    assert streamed.coef_.shape == (2, 6)
    assert relative(streamed.coef_, full.coef_) < 1e-10
    if alpha > 0:
        ridge = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="svd")
        ridge.fit(X, Y, sample_weight=w)
        assert relative(streamed.coef_, ridge.coef_) < 1e-9
        assert_allclose(streamed.intercept_, ridge.intercept_, rtol=1e-9, atol=1e-9)
    if not fit_intercept:
        assert streamed.intercept_ == 0.0


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_chunks(fmt):
    rng = np.random.default_rng(4)
    X = sp.random(800, 15, density=0.2, format=fmt, random_state=4)
    y = X @ rng.standard_normal(15) + 2.0
    streamed = PinvRegressor()
    for rows in np.array_split(np.arange(800), 4):
        streamed.partial_fit(X[rows], y[rows])
    full = PinvRegressor(solver="qr").fit(X.toarray(), y)
    assert relative(streamed.coef_, full.coef_) < 1e-10
    assert_allclose(streamed.intercept_, full.intercept_, rtol=1e-10)


def test_float32_chunks_give_float32_coefficients():
    X, y, _ = make_spectral_regression(2000, 8, cond=10.0, noise=1.0, random_state=5)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    streamed = stream(PinvRegressor(), X32, y32, 4)
    assert streamed.coef_.dtype == np.float32
    assert streamed.singular_values_.dtype == np.float32
    full = PinvRegressor().fit(X, y)
    assert relative(streamed.coef_, full.coef_) < 1e-5


def test_wide_and_single_row_chunks():
    """Rows arriving one at a time, fewer in all than features at first."""
    rng = np.random.default_rng(6)
    X = rng.standard_normal((12, 8))
    y = rng.standard_normal(12)
    streamed = PinvRegressor()
    for i in range(12):
        streamed.partial_fit(X[i : i + 1], y[i : i + 1])
        if i >= 1:
            full = PinvRegressor().fit(X[: i + 1], y[: i + 1])
            assert streamed.rank_ == full.rank_ == min(i, 8)
            assert relative(streamed.coef_, full.coef_) < 1e-9
            assert len(streamed.singular_values_) == len(full.singular_values_)


def test_the_state_does_not_grow_with_the_rows():
    """The kept state is O(d²): pickles of 1e3 and 1e5 rows have one size."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((100_000, 10))
    y = X[:, 0] + rng.standard_normal(100_000)
    small = stream(PinvRegressor(), X[:1000], y[:1000], 2)
    large = stream(PinvRegressor(), X, y, 20)
    # The same arrays; only the integer count of rows takes a few more bytes.
    assert len(pickle.dumps(large)) <= len(pickle.dumps(small)) + 8
    assert large._statistics.n_rows == 100_000


def test_a_chunk_with_other_features_or_targets_is_refused():
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    est = PinvRegressor().partial_fit(X, y)
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match="X has 4 features, but PinvRegressor is"):
        est.partial_fit(rng.standard_normal((5, 4)), rng.standard_normal(5))
    with pytest.raises(ValueError, match="y has 2 target"):
        est.partial_fit(X[:5], rng.standard_normal((5, 2)))
    est.fit_intercept = False
    with pytest.raises(ValueError, match="fit_intercept=False differs"):
        est.partial_fit(X[:5], y[:5])
    assert_array_equal(est.coef_, coef)  # refused chunks change nothing


def test_fit_starts_over():
    rng = np.random.default_rng(9)
    X, y = rng.standard_normal((50, 3)), rng.standard_normal(50)
    est = PinvRegressor().partial_fit(X[:25], y[:25]).fit(X[25:], y[25:])
    with pytest.warns(UserWarning, match="after fit starts a new stream"):
        est.partial_fit(X[:25], y[:25])  # fit's rows are not in the stream
    assert_allclose(est.coef_, PinvRegressor().fit(X[:25], y[:25]).coef_)


def test_statistics_merge_in_any_order():
    """A tree of merges equals the sequence (the Dask path will reduce so)."""
    rng = np.random.default_rng(10)
    X = rng.standard_normal((400, 5)) * [1, 10, 100, 1, 1] + 7.0
    Y = rng.standard_normal((400, 1))
    w = rng.uniform(0.1, 2.0, 400)
    parts = [
        RowStatistics.of(X[s], Y[s], w[s], centre=True)
        for s in np.array_split(np.arange(400), 4)
    ]
    sequence = parts[0].merge(parts[1]).merge(parts[2]).merge(parts[3])
    tree = parts[0].merge(parts[1]).merge(parts[2].merge(parts[3]))
    assert_allclose(tree.R.T @ tree.R, sequence.R.T @ sequence.R, rtol=1e-12)
    assert_allclose(tree.mean, sequence.mean, rtol=1e-14)
    Z = np.hstack([X, Y])
    mean = np.average(Z, axis=0, weights=w)
    scatter = (Z - mean).T @ ((Z - mean) * w[:, None])
    assert_allclose(sequence.R.T @ sequence.R, scatter, rtol=1e-11, atol=1e-9)
    assert sequence.weight == pytest.approx(w.sum(), rel=1e-14)


def test_solver_gram_streams_the_scatter_matrix():
    """solver="gram" keeps the scatter matrix instead of R: it equals
    fit(solver="gram") and warns, as that does, when conditioning costs
    accuracy."""
    from skla.components.lstsq import GramAccuracyWarning

    X, y, _ = make_spectral_regression(
        3000, 15, cond=10.0, noise=1.0, offset=20.0, random_state=11
    )
    streamed = stream(PinvRegressor(solver="gram"), X, y, 6)
    full = PinvRegressor(solver="gram").fit(X, y)
    assert streamed.solver_used_ == "gram (streamed)"
    assert streamed._statistics.R is None
    assert relative(streamed.coef_, full.coef_) < 1e-10
    assert_allclose(streamed.intercept_, full.intercept_, rtol=1e-10)
    X, y, _ = make_spectral_regression(3000, 15, cond=1e6, noise=0.1, random_state=12)
    with pytest.warns(GramAccuracyWarning, match="solver='auto'"):
        stream(PinvRegressor(solver="gram"), X, y, 3)
