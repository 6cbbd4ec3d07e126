"""SGDMiniBatchRegressor against ridge, lasso, hand-written update loops and itself."""

import pickle
import re
import tracemalloc
import warnings
from copy import deepcopy

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, ShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skla import SGDMiniBatchRegressor
from skla._algorithms.windows import epoch_windows
from skla.components.losses import SquaredError
from skla.components.schedules import InvScaling
from skla.exceptions import DivergenceError


def rel_err(a, b):
    return np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b)


@pytest.fixture(scope="module")
def issue_data():
    """The issue's data: make_regression, 20000×30, noise 5."""
    return make_regression(n_samples=20000, n_features=30, noise=5, random_state=0)


def ridge_reference(X, y, alpha=0.0001, sample_weight=None):
    """The minimiser of (1/n) Σ w_i ½r_i² + alpha·½‖β‖²: Ridge(alpha · n).

    Weights scale each sample's term without being normalised, as in
    SGDRegressor, so n (not Σw) scales the penalty.
    """
    return Ridge(alpha=alpha * len(X)).fit(X, y, sample_weight=sample_weight)


def fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


class GenericSquaredError(SquaredError):
    """The squared loss without the flag that selects the BLAS fast path."""

    quadratic = False


# -- accuracy (the issue's targets) -----------------------------------------


def test_defaults_reach_the_ridge_optimum_in_20_epochs(issue_data):
    X, y = issue_data
    optimum = ridge_reference(X, y).score(X, y)
    reg = fit_quietly(
        SGDMiniBatchRegressor(batch_size=64, max_iter=20, random_state=0), X, y
    )
    assert reg.n_iter_ <= 20
    assert reg.score(X, y) >= optimum - 1e-3


def test_average_is_within_one_percent_of_ridge(issue_data):
    X, y = issue_data
    ref = ridge_reference(X, y)
    reg = fit_quietly(
        SGDMiniBatchRegressor(batch_size=64, max_iter=20, average=True, random_state=0),
        X,
        y,
    )
    assert rel_err(reg.coef_, ref.coef_) <= 0.01
    assert abs(reg.intercept_ - ref.intercept_) <= 0.01 * np.linalg.norm(ref.coef_)


def test_partial_fit_over_chunks_matches_fit_quality(issue_data):
    X, y = issue_data
    optimum = ridge_reference(X, y).score(X, y)
    stream = SGDMiniBatchRegressor(batch_size=64, random_state=0)
    for _ in range(20):
        for chunk in np.array_split(np.arange(len(X)), 8):
            stream.partial_fit(X[chunk], y[chunk])
    assert stream.score(X, y) >= optimum - 1e-3
    assert stream.n_iter_ == 160
    assert stream.t_ == 1 + 20 * sum(-(-len(c) // 64) for c in np.array_split(X, 8))


def test_batch_size_one_reaches_the_optimum():
    X, y = make_regression(n_samples=2000, n_features=5, noise=1, random_state=0)
    reg = fit_quietly(
        SGDMiniBatchRegressor(batch_size=1, max_iter=10, average=True, random_state=0),
        X,
        y,
    )
    assert rel_err(reg.coef_, ridge_reference(X, y).coef_) <= 1e-3


def full_batch_gradient_descent(X, y, eta, alpha, n_steps):
    """The seed's loop for mean ½r² + alpha·½‖β‖², with a proximal ridge step."""
    coef, intercept = np.zeros(X.shape[1]), 0.0
    for _ in range(n_steps):
        g = X @ coef + intercept - y
        coef = (coef - eta * X.T @ g / len(y)) / (1 + eta * alpha)
        intercept -= eta * g.mean()
    return coef, intercept


@pytest.mark.parametrize("batch_size", [300, 10_000])
def test_batch_of_all_rows_is_full_batch_gradient_descent(batch_size):
    X, y = make_regression(n_samples=300, n_features=4, noise=1, random_state=0)
    reg = SGDMiniBatchRegressor(
        batch_size=batch_size,  # clipped to n
        learning_rate="constant",
        eta0=0.1,
        alpha=0.01,
        max_iter=50,
        tol=None,
        random_state=0,
    ).fit(X, y)
    coef, intercept = full_batch_gradient_descent(X, y, 0.1, 0.01, 50)
    assert_allclose(reg.coef_, coef, rtol=1e-10)
    assert_allclose(reg.intercept_, intercept, rtol=1e-10)
    assert reg.t_ == 51


# -- the update rule, exactly ------------------------------------------------


def sgd_reference(X, y, *, batch_size, etas, alpha, prox, w=None):
    """One in-order epoch of the update rule, written out with numpy."""
    coef, intercept = np.zeros(X.shape[1]), 0.0
    w = np.ones(len(y)) if w is None else w
    for eta, start in zip(etas, range(0, len(y), batch_size), strict=True):
        rows = slice(start, start + batch_size)
        g = (X[rows] @ coef + intercept - y[rows]) * w[rows] / len(y[rows])
        coef = prox(coef - eta * X[rows].T @ g, eta * alpha)
        intercept -= eta * g.sum()
    return coef, intercept


def ridge_prox(v, t):
    return v / (1 + t)


def lasso_prox(v, t):
    return np.sign(v) * np.maximum(np.abs(v) - t, 0)


@pytest.mark.parametrize("loss", ["squared_error", GenericSquaredError()])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("penalty", "prox"), [("l2", ridge_prox), ("l1", lasso_prox)])
def test_one_epoch_follows_the_update_rule(loss, weighted, penalty, prox):
    X, y = make_regression(n_samples=250, n_features=6, noise=1, random_state=1)
    w = np.random.default_rng(0).uniform(0.5, 2, 250) if weighted else None
    reg = SGDMiniBatchRegressor(
        loss=loss,
        penalty=penalty,
        alpha=0.5,
        batch_size=32,
        learning_rate="invscaling",
        eta0=0.05,
        shuffle=False,
        max_iter=1,
        tol=None,
    ).fit(X, y, sample_weight=w)
    etas = InvScaling(eta0=0.05).rates(1, 8)
    coef, intercept = sgd_reference(
        X, y, batch_size=32, etas=etas, alpha=0.5, prox=prox, w=w
    )
    assert_allclose(reg.coef_, coef, rtol=1e-10)
    assert_allclose(reg.intercept_, intercept, rtol=1e-10)


def iterates(X, y, *, batch_size, eta, alpha, epochs):
    """Every (coef, intercept) of in-order constant-step ridge SGD."""
    coef, intercept, out = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        for start in range(0, len(y), batch_size):
            rows = slice(start, start + batch_size)
            g = (X[rows] @ coef + intercept - y[rows]) / len(y[rows])
            coef = (coef - eta * X[rows].T @ g) / (1 + eta * alpha)
            intercept -= eta * g.sum()
            out.append(np.append(coef, intercept))
    return np.array(out)


@pytest.mark.parametrize(
    ("average", "epochs"), [(True, 1), (True, 5), (True, 9), (700, 5)]
)
def test_averages_are_means_of_the_right_iterates(average, epochs):
    X, y = make_regression(n_samples=250, n_features=4, noise=1, random_state=2)
    params = {"batch_size": 50, "learning_rate": "constant", "eta0": 0.02}
    reg = SGDMiniBatchRegressor(
        alpha=0.1, average=average, shuffle=False, max_iter=epochs, tol=None, **params
    ).fit(X, y)
    path = iterates(X, y, batch_size=50, eta=0.02, alpha=0.1, epochs=epochs)
    if average is True:  # the epochs after the largest power of two <= epochs/2
        start = 2 ** (epochs.bit_length() - 1) // 2 if epochs >= 2 else 0
        expected = path[start * 5 :].mean(axis=0)
    else:  # every update after which >= 700 samples have been seen
        expected = path[(700 + 49) // 50 - 1 :].mean(axis=0)
    assert_allclose(reg.coef_, expected[:-1], rtol=1e-10)
    assert_allclose(reg.intercept_, expected[-1], rtol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("average", [False, True, 700])
def test_fast_path_equals_the_protocol_path(fit_intercept, average):
    X, y = make_regression(n_samples=1000, n_features=8, noise=1, random_state=0)
    params = {
        "batch_size": 16,
        "max_iter": 5,
        "tol": None,
        "fit_intercept": fit_intercept,
        "average": average,
        "random_state": 3,
    }
    fast = SGDMiniBatchRegressor(**params).fit(X, y)
    generic = SGDMiniBatchRegressor(loss=GenericSquaredError(), **params).fit(X, y)
    assert_allclose(fast.coef_, generic.coef_, rtol=1e-10)
    assert_allclose(fast.intercept_, generic.intercept_, rtol=1e-10, atol=1e-12)
    assert_allclose(fast.loss_curve_, generic.loss_curve_, rtol=1e-10)


def test_sparse_csr_and_csc_equal_dense():
    rng = np.random.default_rng(0)
    X = sp.random_array((500, 20), density=0.2, format="csr", rng=rng)
    y = X @ rng.standard_normal(20) + 1.0
    params = {"batch_size": 8, "max_iter": 5, "tol": None, "random_state": 0}
    dense = SGDMiniBatchRegressor(**params).fit(X.toarray(), y)
    for Xs in (X, X.tocsc()):
        sparse = SGDMiniBatchRegressor(**params).fit(Xs, y)
        assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10)
        assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-10)


@pytest.fixture(scope="module")
def float32_rows():
    """Positive float32 features (means of 0.5: the sparse rows are centred
    implicitly), targets and weights."""
    rng = np.random.RandomState(0)
    X = rng.rand(150, 5).astype(np.float32)
    y = X @ np.arange(5.0) + 0.1 * rng.standard_normal(150)
    return X, y, rng.uniform(0.5, 2.0, 150)


@pytest.mark.parametrize(
    "schedule", ["adaptive", "auto", "constant", "invscaling", "optimal"]
)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("y_dtype", [np.float32, np.float64])
def test_sparse_float32_equals_dense_float32(
    float32_rows, schedule, fmt, weighted, y_dtype
):
    # Sparse float32 X once crashed in the preconditioner's moments
    # (float64 weights given to scikit-learn's float32 kernel).
    X, y, w = float32_rows
    w = w if weighted else None
    params = {"learning_rate": schedule, "eta0": 0.05, "max_iter": 3, "tol": None}
    dense = SGDMiniBatchRegressor(random_state=0, **params)
    dense.fit(X, y.astype(y_dtype), sample_weight=w)
    sparse = SGDMiniBatchRegressor(random_state=0, **params)
    sparse.fit(sp.csr_matrix(X).asformat(fmt), y.astype(y_dtype), sample_weight=w)
    assert sparse.coef_.dtype == np.float32
    assert np.asarray(sparse.intercept_).dtype == np.float32
    assert sparse.t_ == dense.t_
    assert_allclose(sparse.predict(X), dense.predict(X), rtol=1e-5)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_float32_at_the_defaults(float32_rows, fmt):
    # The issue's reproduction: the defaults, tol and the optimality check.
    X, y, _ = float32_rows
    dense = SGDMiniBatchRegressor(random_state=0).fit(X, y)
    sparse = SGDMiniBatchRegressor(random_state=0).fit(
        sp.csr_matrix(X).asformat(fmt), y
    )
    assert sparse.coef_.dtype == np.float32
    assert sparse.n_iter_ == dense.n_iter_
    assert_allclose(sparse.predict(X), dense.predict(X), rtol=1e-5)


@pytest.mark.parametrize(
    "params",
    [
        {"loss": "huber", "penalty": "l1"},
        {"loss": "epsilon_insensitive", "penalty": "elasticnet", "average": 5},
        {"fit_intercept": False, "average": True},
        {"early_stopping": True, "penalty": None},
        {"n_targets": 2},
    ],
)
def test_sparse_float32_through_the_generic_updates(float32_rows, params):
    # The components' gradient and prox, averaging, early stopping, several
    # targets: sparse float32 rows give the dense float32 fit.
    X, y, w = float32_rows
    params = {"learning_rate": "invscaling", "max_iter": 2, "tol": None, **params}
    Y = np.column_stack([y, -y]) if params.pop("n_targets", 1) == 2 else y
    dense = SGDMiniBatchRegressor(random_state=0, **params).fit(X, Y, sample_weight=w)
    sparse = SGDMiniBatchRegressor(random_state=0, **params)
    sparse.fit(sp.csr_matrix(X), Y, sample_weight=w)
    assert sparse.coef_.dtype == np.float32
    assert_allclose(sparse.predict(X), dense.predict(X), rtol=1e-5)


@pytest.mark.parametrize(
    "schedule", ["adaptive", "auto", "constant", "invscaling", "optimal"]
)
def test_sparse_float32_partial_fit_equals_dense(float32_rows, schedule):
    X, y, w = float32_rows
    params = {"learning_rate": schedule, "eta0": 0.05, "random_state": 0}
    dense = SGDMiniBatchRegressor(**params)
    sparse = SGDMiniBatchRegressor(**params)
    for chunk, fmt in [(slice(0, 80), "csr"), (slice(80, 150), "csc")]:
        Xs = sp.csr_matrix(X[chunk]).asformat(fmt)
        dense.partial_fit(X[chunk], y[chunk].astype(np.float32), sample_weight=w[chunk])
        sparse.partial_fit(Xs, y[chunk].astype(np.float32), sample_weight=w[chunk])
        assert sparse.coef_.dtype == np.float32
        assert_allclose(sparse.predict(X), dense.predict(X), rtol=1e-5)


def test_multi_output_equals_one_fit_per_target():
    X, Y = make_regression(
        n_samples=600, n_features=5, n_targets=3, noise=1, random_state=0
    )
    params = {"batch_size": 16, "max_iter": 4, "tol": None, "random_state": 0}
    both = SGDMiniBatchRegressor(**params).fit(X, Y)
    assert both.coef_.shape == (3, 5)
    assert both.intercept_.shape == (3,)
    for k in range(3):
        one = SGDMiniBatchRegressor(**params).fit(X, Y[:, k])
        assert_allclose(both.coef_[k], one.coef_, rtol=1e-10)
        assert_allclose(both.intercept_[k], one.intercept_, rtol=1e-10, atol=1e-12)


# -- penalties and losses ----------------------------------------------------


@pytest.mark.parametrize("batch_size", [64, 256])
def test_l1_gives_exact_zeros_where_lasso_does(batch_size):
    X, y = make_regression(
        n_samples=5000, n_features=20, n_informative=5, noise=1, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    ref = Lasso(alpha=1.0).fit(X, y)
    assert (ref.coef_ == 0).sum() == 15
    reg = SGDMiniBatchRegressor(
        penalty="l1",
        alpha=1.0,
        batch_size=batch_size,
        learning_rate="constant",
        eta0=0.01,
        max_iter=100,
        tol=None,
        random_state=0,
    ).fit(X, y)
    assert rel_err(reg.coef_, ref.coef_) <= 0.01
    # The proximal step zeroes a coefficient whenever its batch gradient is
    # below alpha; gradient noise of small batches leaves a few tiny weights
    # (|w| ~ eta · noise) on features Lasso zeroes, larger batches none.
    zero = ref.coef_ == 0
    assert np.all(reg.coef_[~zero] != 0)
    assert np.all(np.abs(reg.coef_[zero]) < 0.02)
    assert (reg.coef_[zero] == 0).sum() >= (8 if batch_size == 64 else 15)


@pytest.mark.parametrize(
    ("loss", "epsilon"), [("huber", 1.0), ("epsilon_insensitive", 0.01), ("rmse", 0)]
)
def test_other_losses_fit_clean_data(loss, epsilon):
    X, y = make_regression(n_samples=2000, n_features=5, noise=0.1, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = y / y.std()
    reg = fit_quietly(
        SGDMiniBatchRegressor(
            loss=loss, epsilon=epsilon, eta0=0.05, max_iter=50, random_state=0
        ),
        X,
        y,
    )
    assert reg.score(X, y) >= 0.99


def test_weighted_fit_approaches_weighted_ridge():
    X, y = make_regression(n_samples=5000, n_features=10, noise=5, random_state=0)
    # Corrupt a third of the targets and give them a small weight.
    rng = np.random.default_rng(0)
    bad = rng.random(len(y)) < 1 / 3
    y = np.where(bad, y + 300 * X[:, 0], y)
    w = np.where(bad, 0.05, 1.0)
    ref = ridge_reference(X, y, sample_weight=w)
    unweighted = ridge_reference(X, y)
    reg = fit_quietly(
        SGDMiniBatchRegressor(
            batch_size=32, eta0=0.05, max_iter=30, average=True, random_state=0
        ),
        X,
        y,
        sample_weight=w,
    )
    gap = rel_err(unweighted.coef_, ref.coef_)
    assert gap > 0.3
    assert rel_err(reg.coef_, ref.coef_) <= 0.01


def test_unit_weights_equal_no_weights():
    X, y = make_regression(n_samples=500, n_features=5, noise=1, random_state=0)
    params = {"max_iter": 3, "tol": None, "random_state": 0}
    a = SGDMiniBatchRegressor(**params).fit(X, y)
    b = SGDMiniBatchRegressor(**params).fit(X, y, sample_weight=np.ones(500))
    assert_allclose(a.coef_, b.coef_, rtol=1e-12)


@pytest.mark.parametrize("c", [3.0, 10.0])
def test_uniform_weights_track_the_objective_they_minimise(c):
    # Weights c ≡ a penalty α/c (SGDRegressor's Σ wᵢℓᵢ / n + αR): the run
    # must judge that objective.  It judged Σ wᵢℓᵢ / Σ w + αR instead, ran
    # 58 epochs and warned "far from the optimum" at 0.2% of it.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.standard_normal(300)
    w = np.full(300, c)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = SGDMiniBatchRegressor(alpha=0.5, random_state=0)
        reg.fit(X, y, sample_weight=w)
    optimum = Ridge(alpha=0.5 * 300).fit(X, y, sample_weight=w)
    assert rel_err(reg.coef_, optimum.coef_) <= 0.02
    assert reg.n_iter_ <= 20
    # loss_curve_ is that objective along the last epoch's updates: near its
    # optimal value (Σ wᵢℓᵢ / Σ w + αR would be 20-60% lower here).
    r = y - optimum.predict(X)
    value = np.sum(w * 0.5 * r**2) / 300 + 0.5 * 0.5 * optimum.coef_ @ optimum.coef_
    assert value <= reg.loss_curve_[-1] <= 1.15 * value


@pytest.mark.parametrize("loss", ["squared_error", "squared_epsilon_insensitive"])
def test_step_cap_sees_the_longest_row_at_batch_size_one(loss):
    # The cap was measured on four probe rows: steps of 'optimal' above
    # 2 / ‖x̃‖² for the longest row blew up to 1e15 in two epochs (where
    # SGDRegressor blows up to 1e11 and happens to come back by epoch 5).
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 4))
    y = X @ [1.0, -2.0, 0.0, 0.5] + 1 + 0.3 * rng.standard_normal(200)
    reg = SGDMiniBatchRegressor(
        loss=loss,
        penalty=None,
        alpha=0.01,
        learning_rate="optimal",
        batch_size=1,
        shuffle=False,
        tol=None,
        max_iter=5,
    ).fit(X, y)
    longest = np.max(np.sum(X**2, axis=1)) + 1.0  # with the intercept's 1
    assert reg.max_eta_ <= 1.5 / longest
    assert reg.score(X, y) >= 0.97


# -- schedules, stopping, averaging, early stopping ---------------------------


def test_tol_stops_after_n_iter_no_change():
    X, y = make_regression(n_samples=500, n_features=5, noise=1, random_state=0)
    reg = SGDMiniBatchRegressor(tol=1e9, n_iter_no_change=3, random_state=0).fit(X, y)
    assert reg.n_iter_ == 4  # the first epoch improves on inf; three more do not
    assert len(reg.loss_curve_) == 4
    assert reg.best_loss_ == min(reg.loss_curve_)
    assert reg.validation_scores_ is None


def test_max_iter_warns():
    X, y = make_regression(n_samples=200, n_features=3, noise=1, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        SGDMiniBatchRegressor(max_iter=2, n_iter_no_change=5).fit(X, y)


def test_adaptive_divides_the_rate_at_each_plateau():
    X, y = make_regression(n_samples=300, n_features=3, noise=1, random_state=0)
    reg = SGDMiniBatchRegressor(
        learning_rate="adaptive", tol=1e9, n_iter_no_change=1, random_state=0
    )
    # tol=1e9 stops it long before the optimum, and the fit says so.
    with pytest.warns(ConvergenceWarning, match="far from the optimum"):
        reg.fit(X, y)
    # 0.01 is divided while above 1e-6: 0.01 / 5**6 = 6.4e-7, then it stops.
    assert_allclose(reg.learning_rate_.eta_, 0.01 / 5**6)
    assert reg.n_iter_ == 1 + 7


def test_early_stopping_keeps_the_best_epoch():
    X, y = make_regression(n_samples=3000, n_features=10, noise=20, random_state=0)
    reg = SGDMiniBatchRegressor(
        early_stopping=True,
        validation_fraction=0.2,
        learning_rate="constant",
        eta0=0.05,
        tol=1e-6,
        random_state=0,
    ).fit(X, y)
    assert len(reg.validation_scores_) == reg.n_iter_
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    assert reg.best_loss_ is None
    # Recompute the split the estimator drew: coef_ scores the best score.
    split = ShuffleSplit(
        n_splits=1, test_size=600, random_state=np.random.RandomState(0)
    )
    _, test = next(split.split(X))
    score = r2_score(y[test], reg.predict(X[test]))
    assert score == pytest.approx(reg.best_validation_score_, abs=1e-12)


def test_early_stopping_needs_both_sets():
    with pytest.raises(ValueError, match="validation_fraction"):
        SGDMiniBatchRegressor(early_stopping=True, validation_fraction=0.5).fit(
            np.ones((1, 2)), [1.0]
        )


def test_t_counts_updates_and_partial_fit_continues_the_schedule():
    X, y = make_regression(n_samples=1024, n_features=5, noise=1, random_state=0)
    # An explicit schedule: "auto" measures its step on the first chunk, so
    # halves and whole start from different measurements.
    params = {
        "batch_size": 32,
        "shuffle": False,
        "random_state": 0,
        "learning_rate": "invscaling",
    }
    whole = SGDMiniBatchRegressor(**params).partial_fit(X, y)
    halves = SGDMiniBatchRegressor(**params).partial_fit(X[:512], y[:512])
    assert halves.t_ == 17
    halves.partial_fit(X[512:], y[512:])
    assert whole.t_ == halves.t_ == 33
    assert_allclose(halves.coef_, whole.coef_, rtol=1e-12)
    assert_allclose(halves.intercept_, whole.intercept_, rtol=1e-12)


def test_partial_fit_from_a_memmap(tmp_path):
    X, y = make_regression(n_samples=4000, n_features=6, noise=1, random_state=0)
    path = tmp_path / "X.dat"
    np.asarray(X).tofile(path)
    X_disk = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    reg = SGDMiniBatchRegressor(random_state=0, eta0=0.05)
    for _ in range(5):
        for start in range(0, 4000, 1000):
            reg.partial_fit(X_disk[start : start + 1000], y[start : start + 1000])
    assert reg.score(X, y) >= ridge_reference(X, y).score(X, y) - 1e-3


def test_partial_fit_checks_features_and_targets():
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    reg = SGDMiniBatchRegressor().partial_fit(X, y)
    with pytest.raises(ValueError, match="features"):
        reg.partial_fit(X[:, :3], y)
    with pytest.raises(ValueError, match="target"):
        reg.partial_fit(X, np.column_stack([y, y]))


def test_warm_start_and_initial_coefficients():
    X, y = make_regression(n_samples=1000, n_features=5, noise=1, random_state=0)
    params = {"max_iter": 20, "eta0": 0.05, "random_state": 0}
    cold = fit_quietly(SGDMiniBatchRegressor(**params), X, y)
    warm = SGDMiniBatchRegressor(warm_start=True, **params)
    fit_quietly(warm, X, y)
    fit_quietly(warm, X, y)
    assert warm.loss_curve_[0] < 0.01 * cold.loss_curve_[0]
    init = SGDMiniBatchRegressor(max_iter=1, tol=None, random_state=0).fit(
        X, y, coef_init=cold.coef_, intercept_init=cold.intercept_
    )
    assert init.loss_curve_[0] < 0.01 * cold.loss_curve_[0]
    with pytest.raises(ValueError, match="coef_init"):
        SGDMiniBatchRegressor().fit(X, y, coef_init=np.zeros(4))


# -- robustness --------------------------------------------------------------


def test_float32_end_to_end():
    X, y = make_regression(n_samples=500, n_features=5, noise=1, random_state=0)
    X, y = X.astype(np.float32), y.astype(np.float32)
    # SGDRegressor's schedule: "auto" takes Huber's large linear-zone steps,
    # whose trajectories float32 and float64 rounding soon tell apart.
    params = {"max_iter": 5, "tol": None, "random_state": 0}
    params["learning_rate"] = "invscaling"
    for loss in ["squared_error", "huber"]:  # the fast path and the protocol path
        reg = SGDMiniBatchRegressor(loss=loss, **params).fit(X, y)
        assert reg.coef_.dtype == np.float32
        assert np.asarray(reg.intercept_).dtype == np.float32
        assert reg.predict(X).dtype == np.float32
        ref = SGDMiniBatchRegressor(loss=loss, **params).fit(
            X.astype(np.float64), y.astype(np.float64)
        )
        assert_allclose(reg.coef_, ref.coef_, rtol=1e-4)


def test_deterministic_for_a_fixed_random_state():
    X, y = make_regression(n_samples=500, n_features=5, noise=1, random_state=0)
    a = SGDMiniBatchRegressor(max_iter=2, tol=None, random_state=7).fit(X, y)
    b = SGDMiniBatchRegressor(max_iter=2, tol=None, random_state=7).fit(X, y)
    c = SGDMiniBatchRegressor(max_iter=2, tol=None, random_state=8).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


def test_inputs_are_not_modified():
    X, y = make_regression(n_samples=300, n_features=4, noise=1, random_state=0)
    w = np.linspace(0.5, 2, 300)
    copies = X.copy(), y.copy(), w.copy()
    reg = SGDMiniBatchRegressor(max_iter=2, tol=None, random_state=0)
    reg.fit(X, y, sample_weight=w).partial_fit(X, y, sample_weight=w)
    for original, copy in zip((X, y, w), copies, strict=True):
        assert_array_equal(original, copy)


class UnboundedSquaredError(SquaredError):
    """The squared loss with no smoothness bound, so no step cap applies."""

    smoothness = None
    quadratic = False


def test_divergence_raises_a_clear_error():
    X, y = make_regression(n_samples=500, n_features=5, noise=1, random_state=0)
    reg = SGDMiniBatchRegressor(
        loss=UnboundedSquaredError(), learning_rate="constant", eta0=10.0
    )
    with pytest.raises(DivergenceError, match=r"step size was 10.*StandardScaler"):
        reg.fit(X * 100, y)
    # The same run with the (smooth) squared loss is capped and stays finite.
    capped = fit_quietly(
        SGDMiniBatchRegressor(learning_rate="constant", eta0=10.0), X * 100, y
    )
    assert capped.max_eta_ < 10.0
    assert capped.score(X * 100, y) > 0.9
    assert not hasattr(reg, "coef_")


def test_step_cap_keeps_unscaled_data_finite():
    # scikit-learn's SGDRegressor returns coefficients of ~1e10 here.
    rng = np.random.RandomState(0)
    X = rng.normal(loc=100, size=(100, 2))
    y = rng.randint(0, 2, size=100).astype(float)
    for learning_rate in ["invscaling", "optimal", "constant"]:
        reg = fit_quietly(
            SGDMiniBatchRegressor(learning_rate=learning_rate, eta0=1.0), X, y
        )
        assert np.all(np.abs(reg.coef_) < 10)
        assert abs(reg.intercept_) < 10
        # λmax of [x, 1]ᵀ[x, 1] / |b| is about ‖(100, 100, 1)‖² = 20001.
        assert reg.max_eta_ == pytest.approx(1.5 / 20001, rel=0.05)


# -- steps too large or too small: what the run says -------------------------


def diabetes_times_1000():
    X, y = load_diabetes(return_X_y=True)
    return X * 1000, y


def full_batch_curvature(X):
    """λmax of [X, 1]ᵀ[X, 1] / n: a step above 2 / λmax diverges even on the
    full batch."""
    design = np.hstack([X, np.ones((len(X), 1))])
    return np.linalg.eigvalsh(design.T @ design / len(X)).max()


def test_capped_steps_are_called_too_large():
    # eta0=1 is thousands of times 2/λmax (SGDRegressor diverges to 1e28):
    # every step is capped at max_eta_ and the fit stays far.  The warning
    # once said the steps were too small and asked for a larger eta0.
    X, y = diabetes_times_1000()
    assert 1000 * 2 / full_batch_curvature(X) < 1.0  # eta0
    reg = SGDMiniBatchRegressor(learning_rate="constant", eta0=1.0, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"too large.*smaller eta0") as record:
        reg.fit(X, y)
    messages = " ".join(str(w.message) for w in record)
    assert "too small" not in messages
    assert "larger eta0" not in messages
    assert f"max_eta_={reg.max_eta_:.3g}" in messages
    assert reg.max_eta_ < 2 / full_batch_curvature(X)
    assert reg.score(X, y) < ridge_reference(X, y).score(X, y) - 1  # far indeed


def test_steps_at_the_cap_are_not_called_too_small():
    # Below the cap but within a factor of it: a larger eta0 would be capped.
    # One step size cannot suit features of size 50 and the intercept.
    X, y = diabetes_times_1000()
    assert full_batch_curvature(X) * 1e-4 > 0.5  # eta0 near the stable limit
    reg = SGDMiniBatchRegressor(learning_rate="constant", eta0=1e-4, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"far from.*StandardScaler") as record:
        reg.fit(X, y)
    assert 1e-4 < reg.max_eta_ < 4e-4
    messages = " ".join(str(w.message) for w in record)
    assert "larger eta0" not in messages
    assert "too small" not in messages


def test_starved_steps_are_called_too_small():
    # The loss decreases at every epoch, slowly: a larger eta0 is the fix.
    X, y = load_diabetes(return_X_y=True)
    reg = SGDMiniBatchRegressor(
        learning_rate="constant", eta0=1e-6, max_iter=20, random_state=0
    )
    with pytest.warns(ConvergenceWarning) as record:
        reg.fit(X, y)
    max_iter, far = (str(w.message) for w in record)
    assert "max_iter=20" in max_iter
    assert re.search(r"far from the optimum.*too small.*larger eta0", far)
    assert np.all(np.diff(reg.loss_curve_) < 0)
    assert reg.score(X, y) < ridge_reference(X, y).score(X, y) - 0.1


def test_partial_fit_with_oscillating_steps_keeps_the_model():
    # Epsilon-insensitive data times 1000: after set_params(eta0=1e3), the
    # steps are far above the largest that moves the predictions by the
    # targets' spread (max_eta_); they oscillate.  partial_fit once took them
    # silently.  Now it raises and leaves every fitted attribute as it was.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(500)
    X, y = 1000 * X, 1000 * y
    # One subgradient step of 1e3 moves a row's prediction by 1e3 · ‖x̃‖²:
    # a hundred thousand times the targets' spread.
    assert 1e3 * np.median(np.sum(X**2, axis=1)) > 1e5 * y.std()
    reg = SGDMiniBatchRegressor(
        loss="epsilon_insensitive",
        learning_rate="invscaling",
        eta0=1e-3,
        average=True,
        random_state=0,
    )
    reg.partial_fit(X[:250], y[:250])
    twin = deepcopy(reg)
    reg.set_params(learning_rate="constant", eta0=1e3)
    before = pickle.dumps(vars(reg))
    with pytest.raises(DivergenceError, match=r"oscillate.*smaller eta0"):
        reg.partial_fit(X[250:], y[250:])
    assert pickle.dumps(vars(reg)) == before  # t_, n_iter_, averages, ...
    assert reg.max_eta_ < 1e3
    # The next call continues from the model as it was.
    reg.set_params(learning_rate="invscaling", eta0=1e-3)
    reg.partial_fit(X[250:], y[250:])
    twin.partial_fit(X[250:], y[250:])
    assert_array_equal(reg.coef_, twin.coef_)
    assert reg.t_ == twin.t_
    # A first call that fails leaves the estimator unfitted.
    fresh = SGDMiniBatchRegressor(
        loss="epsilon_insensitive", learning_rate="constant", eta0=1e3
    )
    unfitted = pickle.dumps(vars(fresh))
    with pytest.raises(DivergenceError, match="oscillate"):
        fresh.partial_fit(X, y)
    assert pickle.dumps(vars(fresh)) == unfitted


def test_optimal_schedule_needs_alpha():
    X, y = make_regression(n_samples=50, n_features=2, random_state=0)
    with pytest.raises(ValueError, match="alpha > 0"):
        SGDMiniBatchRegressor(learning_rate="optimal", alpha=0.0).fit(X, y)


def test_no_copy_of_X_per_epoch():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50_000, 100))
    y = X[:, 0] + 0.1 * rng.standard_normal(50_000)
    tracemalloc.start()
    SGDMiniBatchRegressor(max_iter=2, tol=None, random_state=0).fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.1 * X.nbytes


def test_sparse_batches_are_not_densified():
    rng = np.random.default_rng(0)
    X = sp.random_array((100_000, 200), density=0.005, format="csr", rng=rng)
    y = rng.standard_normal(100_000)
    tracemalloc.start()
    SGDMiniBatchRegressor(batch_size=256, max_iter=1, tol=None, random_state=0).fit(
        X, y
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.1 * X.shape[0] * X.shape[1] * 8


def test_epoch_windows_visit_every_row_once_and_mix_blocks():
    rng = np.random.default_rng(0)
    windows = list(epoch_windows(100_000, 32, row_bytes=800, rng=rng))
    rows = np.concatenate(windows)
    assert_array_equal(np.sort(rows), np.arange(100_000))
    # Each full batch draws its rows from 32 different places of X.
    batch = windows[0][:32]
    assert len(np.unique(batch // 1000)) >= 16


# -- scikit-learn integration ------------------------------------------------


def test_grid_search_over_components_in_a_pipeline():
    X, y = make_regression(n_samples=400, n_features=5, noise=5, random_state=0)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), SGDMiniBatchRegressor(random_state=0)),
        {
            "sgdminibatchregressor__batch_size": [8, 64],
            "sgdminibatchregressor__learning_rate": ["invscaling", "adaptive"],
            "sgdminibatchregressor__loss": ["squared_error", "huber"],
        },
        cv=3,
    )
    fit_quietly(search, X, y)
    assert search.best_score_ > 0.9


def test_custom_schedule_object_and_missing_method():
    X, y = make_regression(n_samples=200, n_features=3, noise=1, random_state=0)

    class Halving:
        def rates(self, t, n_steps):
            return 0.05 * 0.5 ** (np.arange(t, t + n_steps) // 100)

    reg = fit_quietly(SGDMiniBatchRegressor(learning_rate=Halving()), X, y)
    assert reg.score(X, y) > 0.9
    with pytest.raises(InvalidParameterError, match="learning_rate"):
        SGDMiniBatchRegressor(learning_rate=object()).fit(X, y)
    with pytest.raises(InvalidParameterError, match="invscaling"):
        SGDMiniBatchRegressor(learning_rate="invscalling").fit(X, y)


def test_parameters_are_sgdregressors_plus_batch_size():
    from sklearn.linear_model import SGDRegressor

    theirs = SGDRegressor().get_params()
    ours = SGDMiniBatchRegressor().get_params()
    assert set(ours) - set(theirs) == {"batch_size"}
    assert set(theirs) <= set(ours)
    # The one documented difference: the default schedule measures its step.
    assert theirs["learning_rate"] == "invscaling"
    assert ours["learning_rate"] == "auto"
    assert {k: ours[k] for k in theirs if k != "learning_rate"} == {
        k: v for k, v in theirs.items() if k != "learning_rate"
    }


def test_partial_fit_continues_the_shuffling_stream():
    # fit for 2 epochs == fit for 1 epoch, then one partial_fit: the schedule,
    # the step cap and the random stream all carry on (a fresh shuffle stream
    # per call would repeat the same batches every pass and make SGD cycle).
    X, y = make_regression(n_samples=700, n_features=4, noise=1, random_state=0)
    params = {"batch_size": 16, "tol": None, "random_state": 5}
    two = SGDMiniBatchRegressor(max_iter=2, **params).fit(X, y)
    one = SGDMiniBatchRegressor(max_iter=1, **params).fit(X, y).partial_fit(X, y)
    assert_allclose(one.coef_, two.coef_, rtol=1e-12)
    assert one.t_ == two.t_
    again = SGDMiniBatchRegressor(max_iter=1, **params).fit(X, y).partial_fit(X, y)
    assert_array_equal(again.coef_, one.coef_)


def test_fitted_model_pickles_small():
    import pickle

    X, y = make_regression(n_samples=20_000, n_features=100, random_state=0)
    reg = SGDMiniBatchRegressor(max_iter=1, tol=None, random_state=0).fit(X, y)
    size = len(pickle.dumps(reg))
    assert size < 50_000  # coefficients and state, not the 2 MiB window buffer
    reg.partial_fit(X, y)
    assert len(pickle.dumps(reg)) < 50_000


def test_negative_power_t_is_refused():
    # Steps that grow with t diverge; scikit-learn 1.9 warns, 1.10 refuses.
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    reg = SGDMiniBatchRegressor(learning_rate="invscaling", power_t=-0.1)
    with pytest.raises(InvalidParameterError, match="power_t"):
        reg.fit(X, y)
