"""Each estimator beside its scikit-learn counterpart, on shared scenarios.

Where ``docs/user_guide/differences.rst`` says that an skla estimator agrees
with scikit-learn's, this module fits both on the same data and asserts it:
tall float32, sparse float32, weights with zeros and integer repeats,
several targets, warm starts, ``fit_transform`` against ``fit`` then
``transform``, and data at tiny and huge scales.  Tolerances are those of
the less accurate of the two (float32, or an iterative counterpart's own
``tol``); where skla is exact and scikit-learn is too, they are tight.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import TruncatedSVD
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    Ridge,
    SGDRegressor,
)

from skla import (
    GDRegressor,
    PinvRegressor,
    SGDMiniBatchRegressor,
    TruncatedSVDCompressor,
)


def regression(n=400, d=6, *, n_targets=1, dtype=np.float64, seed=0):
    """Correlated columns with offsets and unit noise; y of 1 or more targets."""
    rng = np.random.default_rng(seed)
    mixing = np.eye(d) + 0.3 * rng.standard_normal((d, d))
    X = rng.standard_normal((n, d)) @ mixing + rng.uniform(-3, 3, d)
    coef = rng.uniform(-2, 2, (d, n_targets))
    Y = X @ coef + 1.5 + rng.standard_normal((n, n_targets))
    return X.astype(dtype), (Y[:, 0] if n_targets == 1 else Y)


def weights_with_zeros_and_repeats(n, seed=0):
    """Integer weights 0..3: a zero drops a row, k repeats it k times."""
    return np.random.default_rng(seed).integers(0, 4, n).astype(np.float64)


def repeated(X, y, w):
    """The rows repeated as often as their integer weights say."""
    rows = np.repeat(np.arange(len(w)), w.astype(int))
    return X[rows], y[rows]


def assert_same_linear_model(ours, theirs, *, rtol, atol=0.0):
    assert_allclose(ours.coef_, theirs.coef_, rtol=rtol, atol=atol)
    assert_allclose(ours.intercept_, theirs.intercept_, rtol=rtol, atol=atol)


# --- PinvRegressor: LinearRegression (alpha = 0) and Ridge (alpha > 0) ------


@pytest.mark.parametrize("solver", ["auto", "svd", "qr", "gram"])
def test_pinv_equals_linear_regression(solver):
    X, y = regression()
    ours = PinvRegressor(solver=solver).fit(X, y)
    assert_same_linear_model(ours, LinearRegression().fit(X, y), rtol=1e-10)


def tall_float32(n=100_000):
    """float32 columns of condition number ~300 (two of them nearly equal):
    a cut-off of ``n · eps(float32)`` (1.2e-2 here) would drop a direction."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, 4)) + np.array([1.0, 2.0, -1.0, 0.5])
    X[:, 1] = X[:, 0] + 0.01 * rng.standard_normal(n)
    y = X @ [1.0, 2.0, -1.0, 0.5] + 0.1 * rng.standard_normal(n)
    return X.astype(np.float32), y.astype(np.float32)


def test_pinv_equals_linear_regression_on_tall_float32():
    # LinearRegression solves in float32 (sgelsd, cut-off its tol, 1e-6);
    # skla in float64: both within float32's accuracy times the condition
    # number of the float64 answer, and both return float32.
    X, y = tall_float32()
    ours, theirs = PinvRegressor().fit(X, y), LinearRegression().fit(X, y)
    assert ours.coef_.dtype == theirs.coef_.dtype == np.float32
    assert ours.rank_ == 4
    assert_same_linear_model(ours, theirs, rtol=1e-3, atol=1e-4)
    exact = LinearRegression().fit(X.astype(np.float64), y.astype(np.float64))
    assert_same_linear_model(ours, exact, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_pinv_equals_linear_regression_on_sparse_float32(fmt):
    X, y = regression(2000, 8, dtype=np.float32)
    X[np.abs(X) < 1.0] = 0.0
    Xs = sp.csr_matrix(X).asformat(fmt)
    ours = PinvRegressor().fit(Xs, y)
    theirs = LinearRegression().fit(Xs, y)  # lsqr on the centred operator
    assert ours.coef_.dtype == np.float32
    assert_same_linear_model(ours, theirs, rtol=1e-4, atol=1e-4)
    dense = PinvRegressor().fit(X, y).predict(X)
    assert_allclose(ours.predict(Xs), dense, rtol=1e-6, atol=1e-6 * np.abs(y).max())


@pytest.mark.parametrize("alpha", [0.0, 3.0])
def test_pinv_weights_with_zeros_and_repeats(alpha):
    X, y = regression()
    w = weights_with_zeros_and_repeats(len(y))
    ours = PinvRegressor(alpha=alpha).fit(X, y, sample_weight=w)
    reference = LinearRegression() if alpha == 0 else Ridge(alpha=alpha)
    assert_same_linear_model(ours, reference.fit(X, y, sample_weight=w), rtol=1e-9)
    # ... and, as both promise, equal to the repeated rows.
    rep = PinvRegressor(alpha=alpha).fit(*repeated(X, y, w))
    assert_same_linear_model(ours, rep, rtol=1e-9)


@pytest.mark.parametrize("alpha", [0.0, 3.0])
def test_pinv_several_targets(alpha):
    X, Y = regression(n_targets=3)
    ours = PinvRegressor(alpha=alpha).fit(X, Y)
    theirs = (LinearRegression() if alpha == 0 else Ridge(alpha=alpha)).fit(X, Y)
    assert ours.coef_.shape == theirs.coef_.shape == (3, X.shape[1])
    assert ours.intercept_.shape == theirs.intercept_.shape == (3,)
    assert_same_linear_model(ours, theirs, rtol=1e-9)
    # y of shape (n, 1): coef_ (1, d) and intercept_ (1,), as scikit-learn.
    column = PinvRegressor().fit(X, Y[:, :1])
    reference = LinearRegression().fit(X, Y[:, :1])
    assert column.coef_.shape == reference.coef_.shape == (1, X.shape[1])
    assert column.intercept_.shape == reference.intercept_.shape == (1,)


@pytest.mark.parametrize("scale", [2.0**-500, 2.0**500])
def test_pinv_at_tiny_and_huge_scales(scale):
    # Scaled by a power of two, so the exact answer is the unscaled one
    # scaled back; LinearRegression on the unscaled data is the reference.
    X, y = regression()
    ours = PinvRegressor().fit(X * scale, y * scale)
    theirs = LinearRegression().fit(X, y)
    assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)
    assert_allclose(ours.intercept_ / scale, theirs.intercept_, rtol=1e-9)


# --- GDRegressor: Lasso, ElasticNet, Ridge -----------------------------------

GD = {"tol": 1e-12, "max_iter": 20_000}


def _penalised_pair(penalty, alpha, **extra):
    """GDRegressor and the scikit-learn estimator minimising the same objective."""
    ours = GDRegressor(penalty=penalty, alpha=alpha, **GD, **extra)
    if penalty == "l1":
        return ours, Lasso(alpha=alpha, tol=1e-12, max_iter=100_000)
    return ours, ElasticNet(
        alpha=alpha, l1_ratio=extra["l1_ratio"], tol=1e-12, max_iter=100_000
    )


@pytest.mark.parametrize(
    ("penalty", "extra"), [("l1", {}), ("elasticnet", {"l1_ratio": 0.4})]
)
def test_gd_equals_lasso_and_elastic_net(penalty, extra):
    X, y = regression()
    ours, theirs = _penalised_pair(penalty, 0.3, **extra)
    assert_same_linear_model(ours.fit(X, y), theirs.fit(X, y), rtol=1e-7, atol=1e-9)
    assert np.array_equal(ours.coef_ == 0, theirs.coef_ == 0)  # the same zeros


def test_gd_l2_equals_ridge_with_alpha_times_the_weight():
    # ½ mean wᵢrᵢ² + ½α‖β‖² has Ridge's minimiser at alpha · Σw.
    X, y = regression()
    w = weights_with_zeros_and_repeats(len(y))
    ours = GDRegressor(penalty="l2", alpha=0.05, **GD).fit(X, y, sample_weight=w)
    theirs = Ridge(alpha=0.05 * w.sum()).fit(X, y, sample_weight=w)
    assert_same_linear_model(ours, theirs, rtol=1e-8)


def test_gd_weights_with_zeros_and_repeats_as_lasso():
    X, y = regression()
    w = weights_with_zeros_and_repeats(len(y))
    ours, theirs = _penalised_pair("l1", 0.2)
    ours.fit(X, y, sample_weight=w)
    assert_same_linear_model(
        ours, theirs.fit(X, y, sample_weight=w), rtol=1e-7, atol=1e-9
    )
    rep = GDRegressor(penalty="l1", alpha=0.2, **GD).fit(*repeated(X, y, w))
    assert_same_linear_model(ours, rep, rtol=1e-8, atol=1e-10)


def test_gd_on_tall_and_sparse_float32_as_lasso():
    X, y = regression(20_000, 8, dtype=np.float32)
    X[np.abs(X) < 1.0] = 0.0
    theirs = Lasso(alpha=0.1, tol=1e-10, max_iter=100_000)
    theirs.fit(X.astype(np.float64), y.astype(np.float64))
    for data in (X, sp.csr_matrix(X), sp.csc_matrix(X)):
        ours = GDRegressor(penalty="l1", alpha=0.1, **GD).fit(data, y)
        assert ours.coef_.dtype == np.float32
        assert_same_linear_model(ours, theirs, rtol=1e-5, atol=1e-5)


def test_gd_several_targets_equal_separate_lasso_fits():
    X, Y = regression(n_targets=2)
    ours = GDRegressor(penalty="l1", alpha=0.2, **GD).fit(X, Y)
    for j in range(2):
        theirs = Lasso(alpha=0.2, tol=1e-12, max_iter=100_000).fit(X, Y[:, j])
        assert_allclose(ours.coef_[j], theirs.coef_, rtol=1e-7, atol=1e-9)
        assert_allclose(ours.intercept_[j], theirs.intercept_, rtol=1e-8)


def test_gd_warm_start_reaches_the_same_minimiser_as_lasso():
    X, y = regression()
    ours = GDRegressor(penalty="l1", alpha=1.0, warm_start=True, **GD).fit(X, y)
    theirs = Lasso(alpha=1.0, warm_start=True, tol=1e-12, max_iter=100_000)
    theirs.fit(X, y)
    ours.set_params(alpha=0.2).fit(X, y)
    theirs.set_params(alpha=0.2).fit(X, y)
    assert_same_linear_model(ours, theirs, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("scale", [2.0**-400, 2.0**400])
def test_gd_at_tiny_and_huge_scales(scale):
    # Least squares is scale-free: X and y scaled by c give coef_ unchanged
    # and intercept_ times c.
    X, y = regression()
    ours = GDRegressor(**GD).fit(X * scale, y * scale)
    theirs = LinearRegression().fit(X, y)
    assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8)
    assert_allclose(ours.intercept_ / scale, theirs.intercept_, rtol=1e-8)


# --- SGDMiniBatchRegressor: SGDRegressor --------------------------------------


def _optimum(X, y, alpha, sample_weight=None):
    """SGDRegressor's l2 objective, ½ mean wᵢrᵢ² + ½α‖β‖², solved exactly."""
    n = len(y) if sample_weight is None else sample_weight.sum()
    return Ridge(alpha=alpha * n).fit(X, y, sample_weight=sample_weight)


def _standardised_regression(dtype=np.float64, n=3000):
    X, y = regression(n, 6, dtype=dtype, seed=1)
    X = (X - X.mean(0)) / X.std(0)
    return X.astype(dtype), y.astype(dtype)


SGD = {"max_iter": 200, "tol": None, "random_state": 0}


def test_sgd_and_sgd_regressor_reach_the_same_optimum():
    X, y = _standardised_regression()
    optimum = _optimum(X, y, 1e-4)
    ours = SGDMiniBatchRegressor(alpha=1e-4, **SGD).fit(X, y)
    theirs = SGDRegressor(alpha=1e-4, **SGD).fit(X, y)
    for model in (ours, theirs):
        assert_same_linear_model(model, optimum, rtol=0.02, atol=0.02)
    assert np.shape(ours.intercept_) == ()  # a scalar; SGDRegressor's is (1,)
    assert theirs.intercept_.shape == (1,)


@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
def test_sgd_on_float32_as_sgd_regressor(fmt):
    X, y = _standardised_regression(np.float32)
    data = X if fmt == "dense" else sp.csr_matrix(X).asformat(fmt)
    ours = SGDMiniBatchRegressor(alpha=1e-4, **SGD).fit(data, y)
    theirs = SGDRegressor(alpha=1e-4, **SGD).fit(data, y)
    assert ours.coef_.dtype == theirs.coef_.dtype == np.float32
    optimum = _optimum(X.astype(np.float64), y.astype(np.float64), 1e-4)
    assert_same_linear_model(ours, optimum, rtol=0.02, atol=0.02)
    # SGDRegressor's sparse intercept moves at 1% of the step (its
    # "intercept decay"), still 6% short after 200 epochs here.
    assert_allclose(theirs.coef_, optimum.coef_, rtol=0.02, atol=0.02)
    if fmt == "dense":
        assert_allclose(theirs.intercept_, optimum.intercept_, rtol=0.02)


def test_sgd_weights_with_zeros_drop_rows_as_sgd_regressor():
    # A zero weight drops the row for both; integer weights scale a row's
    # step rather than repeat it (both), so the optimum is the weighted one.
    X, y = _standardised_regression()
    w = weights_with_zeros_and_repeats(len(y))
    optimum = _optimum(X, y, 1e-4, w)
    ours = SGDMiniBatchRegressor(alpha=1e-4, **SGD).fit(X, y, sample_weight=w)
    theirs = SGDRegressor(alpha=1e-4, **SGD).fit(X, y, sample_weight=w)
    for model in (ours, theirs):
        assert_same_linear_model(model, optimum, rtol=0.03, atol=0.03)


def test_sgd_warm_start_continues_from_the_last_fit_as_sgd_regressor():
    X, y = _standardised_regression()
    for model in (
        SGDMiniBatchRegressor(alpha=1e-4, warm_start=True, **SGD),
        SGDRegressor(alpha=1e-4, warm_start=True, **SGD),
    ):
        first = model.fit(X, y).coef_.copy()
        model.set_params(max_iter=1).fit(X, y)  # one more epoch from there
        assert_allclose(model.coef_, first, rtol=0.02, atol=0.02)


# --- TruncatedSVDCompressor: TruncatedSVD ------------------------------------


def _low_rank_plus_noise(m=300, n=80, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    spectrum = np.array([30.0, 20.0, 12.0, 8.0, 5.0, 3.0])
    X = (rng.standard_normal((m, 6)) * spectrum) @ rng.standard_normal((6, n))
    return (X + rng.standard_normal((m, n)) + 2.0).astype(dtype)


def _same_transform(ours, theirs, X, *, rtol):
    assert_allclose(ours.singular_values_, theirs.singular_values_, rtol=rtol)
    assert_allclose(ours.components_, theirs.components_, rtol=rtol, atol=rtol)
    assert_allclose(
        ours.explained_variance_, theirs.explained_variance_, rtol=rtol, atol=rtol
    )
    assert_allclose(
        ours.explained_variance_ratio_,
        theirs.explained_variance_ratio_,
        rtol=rtol,
        atol=rtol,
    )
    scale = np.abs(theirs.transform(X)).max()
    assert_allclose(ours.transform(X), theirs.transform(X), atol=rtol * scale)


@pytest.mark.parametrize("algorithm", ["arpack", "full", "auto", "lanczos"])
@pytest.mark.parametrize("kind", ["dense", "csr", "float32", "sparse float32"])
def test_svd_equals_truncated_svd(algorithm, kind):
    X = _low_rank_plus_noise()
    if "float32" in kind:
        X = X.astype(np.float32)
    if kind in ("csr", "sparse float32"):
        X[np.abs(X) < 3.0] = 0.0
        X = sp.csr_matrix(X)
    ours = TruncatedSVDCompressor(5, algorithm=algorithm, random_state=0).fit(X)
    theirs = TruncatedSVD(5, algorithm="arpack", random_state=0).fit(X)
    float32 = "float32" in kind
    assert ours.components_.dtype == theirs.components_.dtype
    _same_transform(ours, theirs, X, rtol=1e-4 if float32 else 1e-8)


@pytest.mark.parametrize("algorithm", ["arpack", "randomized", "full", "auto"])
def test_svd_fit_transform_equals_fit_then_transform(algorithm):
    # scikit-learn's randomized TruncatedSVD returns X V_k from fit_transform,
    # and skla does for every algorithm: equal to transform to the last bit.
    X = _low_rank_plus_noise()
    ours = TruncatedSVDCompressor(5, algorithm=algorithm, random_state=0)
    assert_array_equal(ours.fit_transform(X), ours.transform(X))
    if algorithm == "randomized":
        theirs = TruncatedSVD(5, algorithm="randomized", random_state=0)
        assert_array_equal(theirs.fit_transform(X), theirs.transform(X))


def test_svd_randomized_agrees_with_truncated_svd_randomized():
    X = _low_rank_plus_noise()
    ours = TruncatedSVDCompressor(5, algorithm="randomized", random_state=0).fit(X)
    theirs = TruncatedSVD(5, algorithm="randomized", random_state=0).fit(X)
    _same_transform(ours, theirs, X, rtol=1e-6)


@pytest.mark.parametrize("scale", [2.0**-500, 2.0**500])
def test_svd_at_tiny_and_huge_scales(scale):
    # TruncatedSVD's float64 arithmetic over- or underflows out here; the
    # answer is that of the unscaled data, scaled.
    X = _low_rank_plus_noise()
    ours = TruncatedSVDCompressor(5, algorithm="full").fit(X * scale)
    theirs = TruncatedSVD(5, algorithm="arpack", random_state=0).fit(X)
    assert_allclose(ours.singular_values_ / scale, theirs.singular_values_, rtol=1e-9)
    assert_allclose(ours.components_, theirs.components_, rtol=1e-8, atol=1e-10)
    assert_allclose(
        ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-9
    )


# --- what differences.rst lists under "Where they agree" ----------------------


def test_pinv_singular_values_and_rank_are_linear_regressions():
    X, y = regression()
    X = np.column_stack([X, X[:, 0]])  # a duplicated column: rank 6 of 7
    ours = PinvRegressor().fit(X, y)
    theirs = LinearRegression(tol=1e-10).fit(X, y)
    assert ours.rank_ == theirs.rank_ == 6
    assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)  # the minimum norm
    k = ours.rank_
    assert_allclose(ours.singular_values_[:k], theirs.singular_[:k], rtol=1e-12)
    assert_array_equal(ours.singular_values_[k:], 0.0)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_pinv_wide_X_is_linear_regressions_minimum_norm(fit_intercept):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 12)), rng.standard_normal(5)
    ours = PinvRegressor(fit_intercept=fit_intercept).fit(X, y)
    theirs = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    assert_same_linear_model(ours, theirs, rtol=1e-10, atol=1e-12)
    assert ours.rank_ == theirs.rank_


def test_pinv_rtol_reproduces_linear_regressions_tol():
    # LinearRegression cuts at its tol (1e-6, scikit-learn 1.9) where
    # PinvRegressor keeps what float64 resolves; rtol=tol gives its answer.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2))
    X = np.column_stack([x[:, 0], x[:, 0] + 1e-7 * x[:, 1]])
    y = X @ [1.0, 1.0] + 0.1 * x[:, 1]
    theirs = LinearRegression().fit(X, y)
    assert PinvRegressor().fit(X, y).rank_ == 2
    matched = PinvRegressor(rtol=1e-6).fit(X, y)
    assert matched.rank_ == theirs.rank_ == 1
    assert_same_linear_model(matched, theirs, rtol=1e-9)


@pytest.mark.parametrize("alpha", [1e-3, 1.0, 100.0])
@pytest.mark.parametrize("solver", ["auto", "svd", "qr", "gram"])
def test_pinv_ridge_equals_ridge(solver, alpha):
    X, y = regression()
    ours = PinvRegressor(alpha=alpha, solver=solver).fit(X, y)
    assert_same_linear_model(ours, Ridge(alpha=alpha).fit(X, y), rtol=1e-10)


def test_gd_without_penalty_and_with_l1_ratio_zero():
    X, y = regression()
    plain = GDRegressor(**GD).fit(X, y)
    assert_same_linear_model(plain, LinearRegression().fit(X, y), rtol=1e-9)
    mixed = GDRegressor(penalty="elasticnet", l1_ratio=0.0, alpha=0.3, **GD)
    ridge = GDRegressor(penalty="l2", alpha=0.3, **GD)
    assert_same_linear_model(mixed.fit(X, y), ridge.fit(X, y), rtol=1e-9)


SAME_UPDATES = {
    "penalty": None,
    "shuffle": False,
    "tol": None,
    "max_iter": 5,
    "eta0": 0.01,
}


def _small_regression(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((200, 4))
    y = X @ [1.0, -2.0, 0.0, 0.5] + 1.0 + 0.3 * rng.standard_normal(200)
    return X, y


@pytest.mark.parametrize(
    "loss",
    ["squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"],
)
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
@pytest.mark.parametrize("weighted", [False, True])
def test_sgd_batch_of_one_makes_sgd_regressors_updates(loss, learning_rate, weighted):
    # batch_size=1, the rows in order, no penalty, steps under the cap: the
    # same updates, so the same model to rounding.
    X, y = _small_regression()
    w = weights_with_zeros_and_repeats(len(y)) if weighted else None
    params = {**SAME_UPDATES, "loss": loss, "learning_rate": learning_rate}
    ours = SGDMiniBatchRegressor(batch_size=1, **params).fit(X, y, sample_weight=w)
    theirs = SGDRegressor(**params).fit(X, y, sample_weight=w)
    assert_same_linear_model(ours, theirs, rtol=1e-12, atol=1e-14)
    assert ours.t_ == theirs.t_
    assert ours.n_iter_ == theirs.n_iter_


def test_sgd_adaptive_and_tol_stop_at_the_same_epoch():
    X, y = _small_regression()
    for learning_rate in ("adaptive", "constant", "invscaling"):
        params = {**SAME_UPDATES, "learning_rate": learning_rate}
        params.update(tol=1e-3, max_iter=100, eta0=0.05)
        ours = SGDMiniBatchRegressor(batch_size=1, **params).fit(X, y)
        theirs = SGDRegressor(**params).fit(X, y)
        assert ours.n_iter_ == theirs.n_iter_
        assert_same_linear_model(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("start", ["average", "warm_start", "coef_init", "sparse"])
def test_sgd_batch_of_one_agrees_on_averaging_warm_starts_and_sparse(start):
    X, y = _small_regression()
    params = {**SAME_UPDATES, "learning_rate": "constant"}
    fit = {}
    if start == "average":
        params["average"] = 150
    elif start == "coef_init":
        fit = {"coef_init": np.ones(4), "intercept_init": 0.5}
    elif start == "sparse":  # without an intercept: scikit-learn damps it
        params["fit_intercept"] = False
        X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    ours = SGDMiniBatchRegressor(batch_size=1, **params)
    theirs = SGDRegressor(**params)
    if start == "warm_start":
        for model in (ours, theirs):
            model.set_params(warm_start=True, max_iter=2).fit(X, y)
            model.set_params(max_iter=3)
    ours.fit(X, y, **fit)
    theirs.fit(X, y, **fit)
    assert_same_linear_model(ours, theirs, rtol=1e-12, atol=1e-13)


def test_svd_randomized_is_truncated_svd_randomized_to_rounding():
    X = _low_rank_plus_noise()
    ours = TruncatedSVDCompressor(5, algorithm="randomized", random_state=0)
    theirs = TruncatedSVD(5, algorithm="randomized", random_state=0)
    _same_transform(ours.fit(X), theirs.fit(X), X, rtol=1e-12)


@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_svd_inverse_transform_is_truncated_svds(kind):
    X = _low_rank_plus_noise()
    data = X if kind == "dense" else sp.csr_matrix(np.where(X < 3.0, 0.0, X))
    ours = TruncatedSVDCompressor(5, algorithm="arpack", random_state=0).fit(data)
    theirs = TruncatedSVD(5, algorithm="arpack", random_state=0).fit(data)
    Z = theirs.transform(data)
    assert_allclose(
        ours.inverse_transform(Z), theirs.inverse_transform(Z), rtol=1e-12, atol=1e-12
    )


def test_tall_float32_constant_column_and_small_spread_as_linear_regression():
    # A constant float32 column (1000.1) carries nothing; one spread over 160
    # units in the last place of 1000 carries most of y.  Both regressors
    # tell them apart on 300000 rows, as float64 least squares does.
    rng = np.random.default_rng(0)
    n = 300_000
    X = np.column_stack(
        [rng.random(n), np.full(n, 1000.1), 1000 + 0.01 * rng.random(n)]
    ).astype(np.float32)
    X64 = X.astype(np.float64)
    y = X64[:, 0] + 300 * (X64[:, 2] - 1000) + 0.01 * rng.random(n)
    exact = LinearRegression().fit(X64, y)
    for ours in (PinvRegressor(), GDRegressor(**GD)):
        ours.fit(X, y)
        assert ours.coef_[1] == 0.0
        assert_allclose(ours.coef_, exact.coef_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [PinvRegressor, GDRegressor])
def test_predict_dtype_follows_x_and_the_intercept_as_linear_regression(make):
    """A float64 fit predicts float32 X in float64 (coef_ in X's dtype, the
    float64 intercept_ added), as LinearRegression does; a float32 fit
    predicts float32 X in float32."""
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = X @ [1.0, 2.0, 3.0] + 4.0
    X32 = X.astype(np.float32)
    ref = LinearRegression().fit(X, y).predict(X32)
    ours = make().fit(X, y).predict(X32)
    assert ours.dtype == ref.dtype == np.float64
    assert make().fit(X32, y.astype(np.float32)).predict(X32).dtype == np.float32
