"""SGDMiniBatchRegressor at its defaults: no scaling, no tuning, no silent misfit.

The reference of every fit is the exact minimiser of the same objective,
``Ridge(alpha=alpha * n_samples)``, and scikit-learn's SGDRegressor at its own
defaults on the same data.
"""

import copy
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import linprog, minimize
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge, SGDRegressor

from skla import SGDMiniBatchRegressor
from skla.components.schedules import Auto
from skla.exceptions import DivergenceError

ALPHA = 1e-4  # the default penalty strength


def _make_regression_family():
    X, y = make_regression(4000, 20, noise=10, random_state=0)
    rng = np.random.default_rng(0)
    scaled = X * 10 ** rng.uniform(-3, 3, 20)
    offsets = rng.choice([-100.0, 100.0], 20)
    return {
        "make_regression": (X, y),
        "columns 10^U(-3,3)": (scaled, y),
        "offsets ±100, y + 500": (scaled + offsets, y + 500),
    }


def _datasets():
    X, y = load_diabetes(return_X_y=True)
    return {"diabetes": (X, y), "diabetes x 1000": (X * 1000, y)} | (
        _make_regression_family()
    )


DATASETS = _datasets()


def optimum(X, y):
    return Ridge(alpha=ALPHA * len(y)).fit(X, y).score(X, y)


@pytest.fixture(scope="module")
def sgdregressor_scores():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            name: SGDRegressor(random_state=0).fit(X, y).score(X, y)
            for name, (X, y) in DATASETS.items()
        }


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("batch_size", [1, 8, 32, 256, "n"])
def test_defaults_reach_the_optimum_on_raw_data(name, batch_size, sgdregressor_scores):
    X, y = DATASETS[name]
    batch_size = len(y) if batch_size == "n" else batch_size
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # and no warning
        reg = SGDMiniBatchRegressor(batch_size=batch_size, random_state=0).fit(X, y)
    score = reg.score(X, y)
    assert score >= optimum(X, y) - 0.01
    assert score >= sgdregressor_scores[name] - 1e-9


@pytest.mark.parametrize("name", list(_make_regression_family()))
@pytest.mark.parametrize("batch_size", [8, 256])
def test_float32_raw_data_at_defaults(name, batch_size):
    X, y = DATASETS[name]
    X, y = X.astype(np.float32), y.astype(np.float32)
    reg = SGDMiniBatchRegressor(batch_size=batch_size, random_state=0).fit(X, y)
    assert reg.coef_.dtype == np.float32
    # The reference solves the same float32 data in float64.  (A column of
    # spread 1e-3 at a mean of 100 is real data in float32, not rounding.)
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    assert reg.score(X64, y64) >= optimum(X64, y64) - 1e-3


def test_a_constant_column_gets_no_weight():
    X, y = DATASETS["make_regression"]
    X = X.astype(np.float32)
    X[:, 1] = 1e6  # rounding noise after centring must not look like signal
    reg = SGDMiniBatchRegressor(random_state=0).fit(X, y)
    assert reg.coef_[1] == 0
    assert reg.score(X, y) >= optimum(X.astype(np.float64), y) - 0.01


def test_the_seed_line_at_defaults():
    # 30 points of y = 2x + 1 + noise: the notes' first regression.
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, (30, 1))
    y = 2 * x[:, 0] + 1 + rng.normal(0, 0.5, 30)
    reg = SGDMiniBatchRegressor(random_state=0).fit(x, y)
    ref = Ridge(alpha=ALPHA * 30).fit(x, y)
    assert reg.score(x, y) >= ref.score(x, y) - 1e-3
    assert_allclose(reg.coef_, ref.coef_, rtol=0.02)
    assert_allclose(reg.intercept_, ref.intercept_, atol=0.1)


def test_preconditioner_is_measured_and_undone():
    X, y = DATASETS["offsets ±100, y + 500"]
    reg = SGDMiniBatchRegressor(random_state=0).fit(X, y)
    standard = reg._sgd.standard
    # Centred and scaled by each column's own mean and spread ...
    assert_allclose(standard.shift, X.mean(axis=0), rtol=1e-10)
    assert_allclose(standard.scale, X.std(axis=0), rtol=1e-10)
    # ... while coef_ is in the features' own units: predictions agree with
    # the optimum's to a fraction of the noise.
    ref = Ridge(alpha=ALPHA * len(y)).fit(X, y)
    assert np.abs(reg.predict(X) - ref.predict(X)).max() < 0.05 * np.std(y)
    # Standardised data are left as they are (the fast path is unchanged).
    Z, t = make_regression(3000, 5, noise=1, random_state=0)
    assert SGDMiniBatchRegressor(random_state=0).fit(Z, t)._sgd.standard is None


def test_step_grows_with_the_batch_size():
    X, y = DATASETS["make_regression"]
    steps = [
        SGDMiniBatchRegressor(batch_size=b, max_iter=1, tol=None, random_state=0)
        .fit(X, y)
        .learning_rate_.eta_
        for b in [1, 8, 64, 512, 4000]
    ]
    assert np.all(np.diff(steps) > 0)
    # The full batch takes 1 / λmax(H) of the centred, scaled problem.
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    largest = max(np.linalg.eigvalsh(Z.T @ Z / len(y)).max(), 1.0)
    # (λmax is measured on 1024 rows of the first window.)
    assert steps[-1] == pytest.approx(1 / largest, rel=0.1)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_is_preconditioned_like_dense(fmt):
    X, y = DATASETS["offsets ±100, y + 500"]
    X = X[:1000]
    y = y[:1000]
    params = {"batch_size": 16, "random_state": 0}
    dense = SGDMiniBatchRegressor(**params).fit(X, y)
    sparse = SGDMiniBatchRegressor(**params).fit(sp.csr_array(X).asformat(fmt), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-8)


def test_rare_sparse_features_do_not_break_the_step():
    # A window of rows can miss a rare feature: moments come from all rows.
    rng = np.random.default_rng(0)
    X = sp.random_array((20_000, 100), density=0.005, format="csr", rng=rng)
    coef = rng.standard_normal(100)
    y = X @ coef + 0.01 * rng.standard_normal(20_000)
    reg = SGDMiniBatchRegressor(batch_size=256, random_state=0).fit(X, y)
    assert reg.score(X, y) >= optimum(X.toarray(), y) - 0.01


@pytest.mark.parametrize("shuffle", [True, False])
def test_preconditioning_never_writes_to_X(shuffle):
    X, y = DATASETS["offsets ±100, y + 500"]
    X_before, y_before = X.copy(), y.copy()
    SGDMiniBatchRegressor(shuffle=shuffle, max_iter=3, tol=None).fit(X, y)
    assert_array_equal(X, X_before)
    assert_array_equal(y, y_before)


@pytest.mark.parametrize(
    ("learning_rate", "params"),
    [
        ("invscaling", {"eta0": 0.01, "power_t": 0.25}),
        ("constant", {"eta0": 0.001}),
        ("optimal", {}),
        ("adaptive", {"eta0": 0.01}),
    ],
)
def test_explicit_schedules_keep_sgdregressors_meaning(learning_rate, params):
    X, y = make_regression(2000, 5, noise=5, random_state=0)
    theirs = SGDRegressor(learning_rate=learning_rate, random_state=0, **params)
    ours = SGDMiniBatchRegressor(
        learning_rate=learning_rate, batch_size=1, random_state=0, **params
    )
    theirs.fit(X, y)
    ours.fit(X, y)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), abs=0.005)
    error = np.linalg.norm(ours.coef_ - theirs.coef_) / np.linalg.norm(theirs.coef_)
    assert error <= 0.05  # both end in the noise of their last steps
    assert ours._sgd.standard is None  # no preconditioner: their update rule


@pytest.mark.parametrize("average", [True, np.True_, 1])
def test_booleans_of_every_kind_mean_the_same(average):
    X, y = make_regression(500, 3, noise=1, random_state=0)
    params = {"learning_rate": "constant", "eta0": 0.01, "max_iter": 4, "tol": None}
    ref = SGDMiniBatchRegressor(average=True, random_state=0, **params).fit(X, y)
    reg = SGDMiniBatchRegressor(average=average, random_state=0, **params).fit(X, y)
    if type(average) is int:  # the integer keeps scikit-learn's meaning
        assert not np.allclose(reg.coef_, ref.coef_)
    else:
        assert_array_equal(reg.coef_, ref.coef_)


# -- never silently far from the optimum ---------------------------------------


def test_a_starved_run_warns():
    X, y = load_diabetes(return_X_y=True)
    reg = SGDMiniBatchRegressor(learning_rate="constant", eta0=1e-9, random_state=0)
    with pytest.warns(ConvergenceWarning, match="far from the optimum.*auto"):
        reg.fit(X, y)
    assert reg.score(X, y) < 0  # the warning is right: this fit is useless


def test_auto_keeps_going_while_the_gradient_says_far():
    # Tiny data, few updates an epoch: the epoch objective stalls in the noise
    # ball before the average has settled; the full gradient sends it on.
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(40, 3))
    X[X < 0.8] = 0
    y = X @ [3.0, -2.0, 1.0] + 0.1 * rng.standard_normal(40)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = SGDMiniBatchRegressor(random_state=0).fit(X, y)
    assert reg.score(X, y) >= optimum(X, y) - 1e-3


def test_warning_when_max_iter_is_too_small_for_auto():
    X, y = DATASETS["diabetes x 1000"]
    reg = SGDMiniBatchRegressor(batch_size=442, max_iter=2, random_state=0)
    with pytest.warns(ConvergenceWarning) as record:
        reg.fit(X, y)
    messages = [str(w.message) for w in record]
    assert any("max_iter=2" in m for m in messages)
    assert any("far from the optimum" in m and "raise max_iter" in m for m in messages)


def test_without_intercept_large_means_are_not_silent():
    # y through the origin, features with means of ±100 and no intercept:
    # no diagonal scaling helps, and a gradient small along the means hides
    # a large error; the check sees it (Sherman-Morrison on the means).
    X, y = DATASETS["offsets ±100, y + 500"]
    y = y - 500
    reg = SGDMiniBatchRegressor(fit_intercept=False, batch_size=32, random_state=0)
    with pytest.warns(ConvergenceWarning, match="centre the features"):
        reg.fit(X, y)
    reference = Ridge(alpha=ALPHA * len(y), fit_intercept=False).fit(X, y)
    assert reg.score(X, y) < reference.score(X, y) - 0.1  # the warning is right
    # Centred features without an intercept are fine.
    Z = X - X.mean(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(Z, y - y.mean())
    reference.fit(Z, y - y.mean())
    assert reg.score(Z, y - y.mean()) >= reference.score(Z, y - y.mean()) - 0.01


@pytest.mark.parametrize("loss", ["epsilon_insensitive", "rmse"])
@pytest.mark.parametrize("eta0", [1e3, 1e6])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_huge_steps_on_nonsmooth_losses_raise(loss, eta0, scale):
    X, y = load_diabetes(return_X_y=True)
    reg = SGDMiniBatchRegressor(
        loss=loss, learning_rate="constant", eta0=eta0, random_state=0
    )
    with pytest.raises(DivergenceError, match=r"oscillate.*learning_rate='auto'"):
        reg.fit(X * scale, y)
    assert not hasattr(reg, "coef_")


def epsilon_insensitive_optimum(X, y, epsilon, sample_weight=None):
    """min mean(max(|y - Xβ - b| - ε, 0)) (weighted), a linear program."""
    n, d = X.shape
    v = np.ones(n) if sample_weight is None else sample_weight
    cost = np.concatenate([np.zeros(d + 1), v / v.sum()])
    design = np.hstack([X, np.ones((n, 1))])
    slack = -np.eye(n)
    bounds = [(None, None)] * (d + 1) + [(0, None)] * n
    result = linprog(
        cost,
        A_ub=np.vstack([np.hstack([-design, slack]), np.hstack([design, slack])]),
        b_ub=np.concatenate([epsilon - y, epsilon + y]),
        bounds=bounds,
        method="highs",
    )
    assert result.success
    return result.fun


def test_heavy_weights_make_nonsmooth_steps_too_large():
    # Each sample's gradient is scaled by its weight (Σ wℓ / n, as in
    # SGDRegressor): with weights of 1e6, eta0=1 moves the predictions a
    # million times further than with unit weights.  The cap once ignored
    # the weights; the fit returned coef_ 3e5 (the optimum is 5) and asked
    # for a larger eta0.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 1))
    y = 5 * X[:, 0] + 0.1 * rng.standard_normal(300)
    heavy = np.full(300, 1e6)
    params = {"loss": "epsilon_insensitive", "learning_rate": "constant"}
    reg = SGDMiniBatchRegressor(eta0=1.0, random_state=0, **params)
    with pytest.raises(DivergenceError, match=r"oscillate.*smaller eta0"):
        reg.fit(X, y, sample_weight=heavy)
    assert not hasattr(reg, "coef_")
    # The cap sees the weights, and a step below it reaches the optimum.
    unit = SGDMiniBatchRegressor(eta0=1e-3, random_state=0, **params).fit(X, y)
    small = SGDMiniBatchRegressor(
        eta0=3e-7, average=True, random_state=0, **params
    ).fit(X, y, sample_weight=heavy)
    assert small.max_eta_ == pytest.approx(unit.max_eta_ / 1e6, rel=1e-12)
    reached = np.mean(np.maximum(np.abs(y - small.predict(X)) - small.epsilon, 0))
    assert reached <= 1.05 * epsilon_insensitive_optimum(X, y, small.epsilon)


def test_auto_nonsmooth_step_ignores_the_weights_scale():
    # Without a penalty, weights times 1e6 leave the objective's minimiser
    # as it is; "auto" once took steps a million times too large there (R²
    # -3600, and no DivergenceError: nothing was capped).
    X, y = make_regression(500, 3, noise=1, random_state=0)
    w = np.random.default_rng(0).uniform(0.5, 1.5, 500)
    params = {"loss": "epsilon_insensitive", "penalty": None, "random_state": 0}
    reg = SGDMiniBatchRegressor(**params).fit(X, y, sample_weight=w)
    heavy = SGDMiniBatchRegressor(**params).fit(X, y, sample_weight=1e6 * w)
    assert_allclose(heavy.predict(X), reg.predict(X), rtol=1e-10)
    excess = np.maximum(np.abs(y - heavy.predict(X)) - heavy.epsilon, 0)
    reached = np.average(excess, weights=w)
    assert reached <= 1.01 * epsilon_insensitive_optimum(X, y, heavy.epsilon, w)


def test_nonsmooth_losses_converge_at_defaults_on_raw_data():
    X, y = make_regression(2000, 5, noise=1, random_state=0)
    X = X * [1e-3, 1, 1e3, 1, 10]  # unscaled
    reg = SGDMiniBatchRegressor(
        loss="epsilon_insensitive", penalty=None, random_state=0
    ).fit(X, y)
    reached = np.mean(np.maximum(np.abs(y - reg.predict(X)) - reg.epsilon, 0))
    assert reached <= 1.01 * epsilon_insensitive_optimum(X, y, reg.epsilon)
    # The RMSE's minimiser is least squares.
    reg = SGDMiniBatchRegressor(loss="rmse", penalty=None, random_state=0).fit(X, y)
    design = np.hstack([X, np.ones((len(y), 1))])
    lstsq = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    best = 1 - np.sum((y - lstsq) ** 2) / np.sum((y - y.mean()) ** 2)
    assert reg.score(X, y) >= best - 1e-3


def huber_objective(theta, X, y, epsilon, alpha):
    r = y - X @ theta[:-1] - theta[-1]
    a = np.abs(r)
    loss = np.where(a <= epsilon, 0.5 * r**2, epsilon * (a - 0.5 * epsilon))
    return loss.mean() + 0.5 * alpha * theta[:-1] @ theta[:-1]


@pytest.mark.parametrize("batch_size", [1, 32, 256])
def test_huber_at_defaults_reaches_its_optimum(batch_size):
    # epsilon=0.1 against residuals of size 5: the loss is linear almost
    # everywhere, and steps sized by its curvature would crawl.
    X, y = make_regression(2000, 5, noise=5, random_state=0)
    reg = SGDMiniBatchRegressor(loss="huber", batch_size=batch_size, random_state=0)
    reg.fit(X, y)
    args = (X, y, reg.epsilon, ALPHA)
    best = minimize(
        huber_objective, np.zeros(6), args=args, method="L-BFGS-B", tol=1e-12
    ).fun
    reached = huber_objective(np.append(reg.coef_, reg.intercept_), *args)
    assert reached <= 1.01 * best


def test_partial_fit_divergence_leaves_the_model_as_it_was():
    X, y = make_regression(600, 4, noise=1, random_state=0)
    reg = SGDMiniBatchRegressor(
        loss="epsilon_insensitive", learning_rate="constant", eta0=0.01, random_state=0
    )
    reg.partial_fit(X[:300], y[:300])
    coef, intercept, t = reg.coef_.copy(), reg.intercept_, reg.t_
    twin = copy.deepcopy(reg)
    # A chunk a million times larger: the step that suited the first chunk
    # now blows the squared loss up.
    reg.set_params(loss="squared_error", learning_rate="constant", eta0=1e6)
    with pytest.raises(DivergenceError):
        reg.partial_fit(X[300:] * 1e6, y[300:])
    assert_array_equal(reg.coef_, coef)
    assert reg.intercept_ == intercept
    assert reg.t_ == t
    # The next call continues from the model before the failed one.
    reg.set_params(loss="epsilon_insensitive", eta0=0.01)
    reg.partial_fit(X[300:], y[300:])
    twin.partial_fit(X[300:], y[300:])
    assert_array_equal(reg.coef_, twin.coef_)


def test_coef_is_not_a_view_of_the_running_state():
    X, y = make_regression(300, 3, noise=1, random_state=0)
    reg = SGDMiniBatchRegressor(random_state=0).partial_fit(X, y)
    coef = reg.coef_
    reg.partial_fit(X, y)
    assert not np.shares_memory(coef, reg.coef_)
    assert not np.shares_memory(reg.coef_, reg._sgd.coef)


# -- the schedule ---------------------------------------------------------------


def test_auto_schedule_needs_calibration():
    with pytest.raises(RuntimeError, match="calibrate"):
        Auto().rates(1, 1)
    schedule = Auto(factor=0.5)
    schedule.calibrate(1.0, period=4, smooth=True)
    assert_array_equal(schedule.rates(1, 3), [0.5, 0.5, 0.5])
    assert schedule.plateau()
    assert schedule.eta_ == 0.25
    full_batch = Auto()
    full_batch.calibrate(1.0, period=1, smooth=True)
    assert full_batch.plateau()
    assert full_batch.eta_ == 1.0  # no noise: the step is kept
    answers = [full_batch.plateau() for _ in range(10)]
    assert answers == [True] * 9 + [False]  # gives up after ten plateaus


def test_partial_fit_keeps_the_measured_step_across_calls():
    X, y = DATASETS["offsets ±100, y + 500"]
    reg = SGDMiniBatchRegressor(batch_size=32, random_state=0)
    for chunk in np.array_split(np.arange(len(y)), 4):
        reg.partial_fit(X[chunk], y[chunk])
        assert reg.learning_rate_.eta_ == reg._sgd.schedule.eta_
    for _ in range(5):
        for chunk in np.array_split(np.arange(len(y)), 4):
            reg.partial_fit(X[chunk], y[chunk])
    assert reg.score(X, y) >= optimum(X, y) - 0.01


def test_only_auto_reads_all_rows_for_its_preconditioner(monkeypatch):
    # The metric of the optimality check needs the first window only; the
    # extra pass over X is for "auto", on data that are not standardised.
    import skla._algorithms.standardise as standardise

    rows_read = []
    original = standardise.column_moments

    def counting(X, weights, rows=None, **kwargs):
        rows_read.append(X.shape[0] if rows is None else len(rows))
        return original(X, weights, rows, **kwargs)

    monkeypatch.setattr(standardise, "column_moments", counting)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40_000, 20)) * 10 ** rng.uniform(-3, 3, 20) + 100
    y = rng.standard_normal(40_000)  # more rows than a 2 MiB window holds
    params = {"max_iter": 1, "tol": None, "random_state": 0}
    SGDMiniBatchRegressor(learning_rate="invscaling", **params).fit(X, y)
    assert max(rows_read) < len(y)
    rows_read.clear()
    SGDMiniBatchRegressor(**params).fit(X, y)
    assert max(rows_read) == len(y)


def test_constant_targets_without_intercept_reach_the_lp_optimum():
    """y ≡ 3, no intercept, epsilon-insensitive loss: the optimum (a linear
    program) is far from 0.  Constant targets once left a rounding-noise
    spread that sized the step at 1e-17, and the fit stayed at 0 silently."""
    from scipy.optimize import linprog

    X = np.random.default_rng(0).standard_normal((500, 3))
    y = np.full(500, 3.0)
    n, eps = len(y), 0.1

    def objective(beta):
        return np.maximum(np.abs(y - X @ beta) - eps, 0).mean()

    # min mean(t) s.t. t >= |y - Xβ| - eps, t >= 0
    A = np.block([[-X, -np.eye(n)], [X, -np.eye(n)]])
    lp = linprog(
        np.r_[np.zeros(3), np.ones(n) / n],
        A_ub=A,
        b_ub=np.r_[-(y - eps), y + eps],
        bounds=[(None, None)] * 3 + [(0, None)] * n,
    )
    reg = SGDMiniBatchRegressor(
        loss="epsilon_insensitive", epsilon=eps, fit_intercept=False, random_state=0
    ).fit(X, y)
    assert objective(np.zeros(3)) - lp.fun > 0.1  # 0 is far from optimal
    assert objective(reg.coef_) <= lp.fun * (1 + 1e-3)
