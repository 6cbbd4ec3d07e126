"""GDRegressor against closed forms and scikit-learn's solvers."""

import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skla import GDRegressor, PinvRegressor
from skla.datasets import make_spectral_regression
from skla.exceptions import DivergenceError


def rel_err(a, b):
    return np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b)


def data(n=300, d=8, cond=10.0, seed=0, **kwargs):
    X, y, _ = make_spectral_regression(
        n, d, cond=cond, noise=0.5, offset=2.0, random_state=seed, **kwargs
    )
    return X, y


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_defaults_converge_to_pinv_solution(sparse, weighted):
    X, y = data(n_targets=2)
    w = np.random.default_rng(0).uniform(0.5, 2, len(X)) if weighted else None
    Xin = sp.csr_array(X) if sparse else X
    ref = PinvRegressor().fit(X, y, sample_weight=w)
    reg = GDRegressor(tol=1e-10).fit(Xin, y, sample_weight=w)
    assert rel_err(reg.coef_, ref.coef_) <= 1e-6
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-6)
    assert len(reg.loss_curve_) == reg.n_iter_


def test_l1_converges_to_lasso_with_the_same_zeros():
    X, y = data(d=20)
    for alpha in [0.05, 0.3]:
        ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y)
        reg = GDRegressor(penalty="l1", alpha=alpha, tol=1e-12, max_iter=5000).fit(X, y)
        assert_array_equal(reg.coef_ == 0, ref.coef_ == 0)
        assert (ref.coef_ == 0).any()
        assert_allclose(reg.coef_, ref.coef_, atol=1e-7)
        assert_allclose(reg.intercept_, ref.intercept_, atol=1e-7)


def test_elasticnet_converges_to_sklearn_elasticnet():
    X, y = data(d=20)
    ref = ElasticNet(alpha=0.2, l1_ratio=0.6, tol=1e-12, max_iter=100_000).fit(X, y)
    reg = GDRegressor(
        penalty="elasticnet", alpha=0.2, l1_ratio=0.6, tol=1e-12, max_iter=5000
    ).fit(X, y)
    assert_array_equal(reg.coef_ == 0, ref.coef_ == 0)
    assert_allclose(reg.coef_, ref.coef_, atol=1e-7)


def test_l2_converges_to_ridge_with_alpha_times_n():
    X, y = data()
    ref = Ridge(alpha=0.5 * len(X)).fit(X, y)
    reg = GDRegressor(penalty="l2", alpha=0.5, tol=1e-12).fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-8)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-8)


def test_unscaled_features_converge_with_auto():
    X, y = data(d=6)
    X = X * [1.0, 1000.0, 0.001, 1.0, 50.0, 1.0]
    ref = PinvRegressor().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = GDRegressor(tol=1e-10).fit(X, y)  # default max_iter=1000
    assert rel_err(reg.coef_, ref.coef_) <= 1e-6
    # Without the diagonal preconditioner, the safe step 1/L cannot get there.
    Xc = X - X.mean(0)
    lipschitz = np.linalg.eigvalsh(Xc.T @ Xc / len(X))[-1]
    plain = GDRegressor(learning_rate="constant", eta0=1 / lipschitz, tol=1e-10)
    with pytest.warns(ConvergenceWarning):
        plain.fit(X, y)


@pytest.mark.parametrize("learning_rate", ["armijo", "constant"])
def test_other_step_rules_reach_the_same_solution(learning_rate):
    X, y = data(d=5)
    X = StandardScaler().fit_transform(X)
    ref = PinvRegressor().fit(X, y)
    reg = GDRegressor(learning_rate=learning_rate, eta0=0.5, tol=1e-10, max_iter=5000)
    reg.fit(X, y)
    assert rel_err(reg.coef_, ref.coef_) <= 1e-6


def test_divergent_constant_step_raises_a_clear_error():
    X, y = data()
    X[:, 0] *= 100
    with pytest.raises(DivergenceError, match=r"step size 1 .*learning_rate='auto'"):
        GDRegressor(learning_rate="constant", eta0=1.0).fit(X, y)


def test_convergence_warning_when_max_iter_is_reached():
    X, y = data(cond=1e3)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        reg = GDRegressor(max_iter=3, tol=1e-12).fit(X, y)
    assert reg.n_iter_ == 3


def test_warm_start_continues_from_the_previous_solution():
    X, y = data()
    reg = GDRegressor(tol=1e-10, warm_start=True).fit(X, y)
    first = reg.n_iter_
    reg.fit(X, y)
    assert reg.n_iter_ < first
    cold = GDRegressor(tol=1e-10, max_iter=2).fit
    with pytest.warns(ConvergenceWarning):
        cold(X, y)


def test_huber_matches_an_independent_optimiser():
    X, y = data(d=4)
    y[:10] += 20  # outliers
    eps, alpha = 0.5, 0.01
    reg = GDRegressor(loss="huber", epsilon=eps, penalty="l2", alpha=alpha, tol=1e-12)
    reg.fit(X, y)

    def objective(theta):
        r = y - X @ theta[:-1] - theta[-1]
        a = np.abs(r)
        loss = np.where(a <= eps, 0.5 * r**2, eps * a - 0.5 * eps**2).mean()
        return loss + alpha * 0.5 * theta[:-1] @ theta[:-1]

    ref = scipy.optimize.minimize(
        objective, np.zeros(5), method="BFGS", options={"gtol": 1e-12}
    ).x
    assert_allclose(reg.coef_, ref[:-1], rtol=1e-5, atol=1e-7)
    assert_allclose(reg.intercept_, ref[-1], rtol=1e-5, atol=1e-7)


def test_seed_rmse_loss_reaches_least_squares():
    X, y = data(d=5)
    ref = PinvRegressor().fit(X, y)
    reg = GDRegressor(loss="rmse", tol=1e-10, max_iter=5000).fit(X, y)
    assert rel_err(reg.coef_, ref.coef_) <= 1e-5


def test_sparse_equals_dense_for_a_non_quadratic_loss():
    X, y = data(d=6)
    X[np.abs(X) < 1.0] = 0.0
    dense = GDRegressor(loss="huber", tol=1e-10).fit(X, y)
    sparse = GDRegressor(loss="huber", tol=1e-10).fit(sp.csc_array(X), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-7)


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_float32_is_kept(loss):
    X, y = data(d=5)
    reg64 = GDRegressor(loss=loss, tol=1e-8).fit(X, y)
    reg32 = GDRegressor(loss=loss, tol=1e-8).fit(X.astype(np.float32), y)
    assert reg32.coef_.dtype == np.float32
    assert np.asarray(reg32.intercept_).dtype == np.float32
    assert reg32.predict(X.astype(np.float32)).dtype == np.float32
    assert_allclose(reg32.coef_, reg64.coef_, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_inputs_are_not_modified(loss):
    X, y = data()
    w = np.random.default_rng(0).uniform(0.5, 2, len(X))
    copies = X.copy(), y.copy(), w.copy()
    GDRegressor(loss=loss).fit(X, y, sample_weight=w)
    for original, copy in zip((X, y, w), copies, strict=True):
        assert_array_equal(original, copy)


def test_objective_decreases_along_the_loss_curve():
    X, y = data(cond=100.0)
    curve = GDRegressor(penalty="l1", alpha=0.01, tol=1e-6).fit(X, y).loss_curve_
    assert curve[-1] < curve[0]
    assert curve[-1] == pytest.approx(min(curve), rel=1e-9)


def test_grid_search_over_components_in_a_pipeline():
    X, y = data()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), GDRegressor()),
        {
            "gdregressor__loss": ["squared_error", "huber"],
            "gdregressor__penalty": [None, "l1", "l2"],
            "gdregressor__alpha": [1e-3],
        },
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        search.fit(X, y)
    assert search.best_score_ > 0.9


class AbsoluteL1:
    """A user's penalty, passed as an object: the plain L1 norm."""

    def value(self, coef):
        return float(np.abs(coef).sum())

    def prox(self, coef, step):
        return np.sign(coef) * np.maximum(np.abs(coef) - step, 0.0)


class HalfSquares:
    """A user's loss, passed as an object: squared error without the Gram path."""

    smoothness = 1.0

    def value(self, y, y_pred, sample_weight):
        return float(sample_weight @ (0.5 * (y - y_pred) ** 2).sum(axis=1))

    def gradient(self, y, y_pred, sample_weight):
        return -sample_weight[:, None] * (y - y_pred)


def test_custom_components_passed_as_objects():
    X, y = data(d=10)
    ref = Lasso(alpha=0.1, tol=1e-12, max_iter=100_000).fit(X, y)
    reg = GDRegressor(loss=HalfSquares(), penalty=AbsoluteL1(), alpha=0.1, tol=1e-10)
    reg.fit(X, y)
    assert isinstance(reg.loss_, HalfSquares)
    assert reg.loss_ is not reg.loss  # cloned, the parameter untouched
    assert_allclose(reg.coef_, ref.coef_, atol=1e-6)
    assert_allclose(reg.intercept_, ref.intercept_, atol=1e-6)


def test_missing_protocol_method_is_named():
    class NoProx:
        def value(self, coef):
            return 0.0

    with pytest.raises(TypeError, match="'prox'"):
        GDRegressor(penalty=NoProx()).fit(*data())


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_sparse_X_is_never_densified(loss):
    import tracemalloc

    rng = np.random.default_rng(0)
    X = sp.random_array((200_000, 100), density=0.01, format="csr", rng=rng)
    y = rng.standard_normal(200_000)
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GDRegressor(loss=loss, max_iter=5).fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.3 * X.shape[0] * X.shape[1] * 8


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_without_intercept(loss):
    # Data through the origin: no column offsets (with offsets and no
    # intercept the mean direction dominates the spectrum and GD needs far
    # more than max_iter iterations, as any first-order method would).
    X, y, _ = make_spectral_regression(300, 5, cond=10.0, noise=0.5, random_state=0)
    y = y - y.mean()
    reg = GDRegressor(loss=loss, epsilon=1.0, fit_intercept=False, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X, y)
    assert reg.intercept_ == 0.0
    if loss == "squared_error":
        expected = PinvRegressor(fit_intercept=False).fit(X, y).coef_
    else:

        def objective(beta):
            a = np.abs(y - X @ beta)
            return np.where(a <= 1.0, 0.5 * a**2, a - 0.5).mean()

        expected = scipy.optimize.minimize(
            objective, np.zeros(5), method="BFGS", options={"gtol": 1e-12}
        ).x
    assert_allclose(reg.coef_, expected, rtol=1e-5, atol=1e-7)


def test_cold_start_evaluates_the_start_once(monkeypatch):
    # One product with X per iteration, plus one at θ = 0, which is also the
    # cold start: the start must not be evaluated twice (two passes over X).
    from skla._algorithms import objectives as pg

    calls = []
    forward = pg.LossObjective.forward
    monkeypatch.setattr(
        pg.LossObjective, "forward", lambda self, t: calls.append(1) or forward(self, t)
    )
    X, y = data(d=4)
    X = StandardScaler().fit_transform(X)
    reg = GDRegressor(loss="huber", learning_rate="constant", eta0=0.1, tol=1e-6)
    reg.fit(X, y)
    assert len(calls) == reg.n_iter_ + 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True])
def test_a_constant_column_gets_a_zero_coefficient(dtype, sparse):
    """A constant column carries nothing once centred: its coefficient is 0,
    as PinvRegressor's minimum-norm answer.  The mean of 1e5 copies of 1.1,
    summed row after row, is off by 1.7e-12, so the centred column was a
    tiny offset that the preconditioner blew up (coefficients of 5e-5 dense,
    8e-4 sparse), and float32 sparse Grams summed in float32."""
    rng = np.random.default_rng(10)
    n = 100_000
    X = rng.standard_normal((n, 3))
    X[rng.random((n, 3)) < 0.3] = 0.0
    X[:, 1] = 1.1
    y = X @ [1.0, 0.0, -2.0] + 0.1 * rng.standard_normal(n)
    X, y = X.astype(dtype), y.astype(dtype)
    X_fit = sp.csr_matrix(X) if sparse else X
    reg = GDRegressor(tol=1e-10).fit(X_fit, y)
    reference = PinvRegressor().fit(X, y)
    assert reg.coef_[1] == 0.0
    rtol = 1e-6 if dtype == np.float64 else 1e-4
    assert_allclose(reg.coef_, reference.coef_, rtol=rtol, atol=1e-6)
