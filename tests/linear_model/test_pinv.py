"""PinvRegressor against numpy, scipy and scikit-learn references."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skla import PinvRegressor
from skla.components.lstsq import GramAccuracyWarning, LSQRSolver
from skla.datasets import make_spectral_regression

STABLE = ["svd", "qr", "auto"]
ALL = ["svd", "qr", "gram", "lsqr", "auto"]
SPARSE_OK = ["gram", "lsqr", "auto", "qr"]  # qr densifies one block at a time


def rel_err(a, b):
    return np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b)


def lstsq_reference(X, y, sample_weight=None, fit_intercept=True):
    """Coefficients and intercept from numpy.linalg.lstsq on centred data."""
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight)
    if fit_intercept:
        x_mean = np.average(X, axis=0, weights=w)
        y_mean = np.average(y, axis=0, weights=w)
    else:
        x_mean, y_mean = np.zeros(X.shape[1]), np.zeros(np.shape(y)[1:])
    sw = np.sqrt(w)
    Xc = (X - x_mean) * sw[:, None]
    yc = (y - y_mean) * (sw if np.ndim(y) == 1 else sw[:, None])
    coef = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    return coef.T, y_mean - x_mean @ coef


@pytest.mark.parametrize("solver", ALL)
def test_seed_linear_system(solver):
    # 2x + 3y = 8, x + y = 3  =>  x = 1, y = 2 (the seed's worked example).
    A = np.array([[2.0, 3.0], [1.0, 1.0]])
    reg = PinvRegressor(fit_intercept=False, solver=solver).fit(A, [8.0, 3.0])
    assert_allclose(reg.coef_, [1.0, 2.0], rtol=1e-12)
    assert reg.intercept_ == 0.0
    assert_allclose(reg.predict(A), [8.0, 3.0], rtol=1e-12)


@pytest.mark.parametrize("cond", [1.0, 1e2, 1e4, 1e6])
@pytest.mark.parametrize("solver", STABLE)
def test_matches_lstsq_up_to_cond_1e6(solver, cond):
    X, y, _ = make_spectral_regression(
        2000, 20, cond=cond, noise=1.0, offset=100.0, random_state=0
    )
    coef, intercept = lstsq_reference(X, y)
    reg = PinvRegressor(solver=solver).fit(X, y)
    assert rel_err(reg.coef_, coef) <= 1e-8
    assert_allclose(reg.intercept_, intercept, rtol=1e-8)


@pytest.mark.parametrize("cond", [1.0, 1e2, 1e3])
def test_gram_accurate_where_it_does_not_warn(cond):
    X, y, _ = make_spectral_regression(
        2000, 20, cond=cond, noise=1.0, offset=100.0, random_state=1
    )
    coef, _ = lstsq_reference(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GramAccuracyWarning)
        reg = PinvRegressor(solver="gram").fit(X, y)
    assert rel_err(reg.coef_, coef) <= 1e-8


def test_gram_warns_when_ill_conditioned():
    X, y, _ = make_spectral_regression(500, 10, cond=1e6, random_state=0)
    with pytest.warns(GramAccuracyWarning, match="solver='qr' or 'auto'"):
        PinvRegressor(solver="gram").fit(X, y)


@pytest.mark.parametrize("cond", [1.0, 1e2, 1e4])
def test_lsqr_matches_lstsq_up_to_cond_1e4(cond):
    X, y, _ = make_spectral_regression(
        2000, 20, cond=cond, noise=1.0, offset=10.0, random_state=0
    )
    coef, intercept = lstsq_reference(X, y)
    reg = PinvRegressor(solver="lsqr").fit(X, y)
    assert rel_err(reg.coef_, coef) <= 1e-8
    assert_allclose(reg.intercept_, intercept, rtol=1e-8)
    assert reg.rank_ is None
    assert reg.singular_values_ is None


def test_auto_uses_gram_only_when_safe():
    X, y, _ = make_spectral_regression(3000, 20, cond=10.0, random_state=0)
    assert PinvRegressor().fit(X, y).solver_used_ == "gram"
    X, y, _ = make_spectral_regression(3000, 20, cond=1e5, random_state=0)
    assert PinvRegressor().fit(X, y).solver_used_ == "qr"
    X, y, _ = make_spectral_regression(3000, 20, rank=15, random_state=0)
    assert PinvRegressor().fit(X, y).solver_used_ == "qr"
    # Enough ridge makes the normal equations well conditioned again.
    assert PinvRegressor(alpha=1e3).fit(X, y).solver_used_ == "gram"


def test_auto_near_its_gram_threshold_keeps_the_promise():
    # cond ~ 2000 is where auto stops trusting the normal equations.
    for cond in [1500.0, 2000.0, 2500.0]:
        X, y, _ = make_spectral_regression(
            4000, 30, cond=cond, noise=1.0, offset=50.0, random_state=2
        )
        coef, _ = lstsq_reference(X, y)
        assert rel_err(PinvRegressor().fit(X, y).coef_, coef) <= 1e-8


@pytest.mark.parametrize("shape", [(200, 30), (30, 200)], ids=["tall", "wide"])
@pytest.mark.parametrize("solver", [*STABLE, "lsqr"])
def test_minimum_norm_on_rank_deficient(solver, shape):
    n, d = shape
    X, y, _ = make_spectral_regression(n, d, rank=10, noise=1.0, random_state=0)
    Xc, yc = X - X.mean(0), y - y.mean()
    expected = np.linalg.pinv(Xc) @ yc
    reg = PinvRegressor(solver=solver).fit(X, y)
    assert rel_err(reg.coef_, expected) <= 1e-8
    if solver != "lsqr":
        assert reg.rank_ == 10
    # Any other least-squares solution is longer: add a null-space direction.
    null = np.linalg.svd(Xc)[2][-1]
    assert_allclose(Xc @ null, 0, atol=1e-8)
    assert np.linalg.norm(reg.coef_) < np.linalg.norm(reg.coef_ + 0.1 * null)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ALL)
def test_ridge_equals_sklearn_ridge(solver, fit_intercept):
    X, y, _ = make_spectral_regression(
        300, 15, cond=30.0, n_targets=2, noise=0.5, offset=3.0, random_state=0
    )
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    for alpha in [0.1, 10.0]:
        ref = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="svd")
        ref.fit(X, y, sample_weight=w)
        reg = PinvRegressor(alpha=alpha, fit_intercept=fit_intercept, solver=solver)
        reg.fit(X, y, sample_weight=w)
        assert_allclose(reg.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
        assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("solver", ["svd", "qr", "gram"])
def test_rtol_cut_sets_rank(solver):
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((100, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    s = np.array([1.0, 1e-2, 1e-5])
    X = (U * s) @ V.T
    y = rng.standard_normal(100)
    reg = PinvRegressor(fit_intercept=False, rtol=1e-3, solver=solver).fit(X, y)
    assert reg.rank_ == 2
    # The value cut is reported as 0, as on every route.
    assert_allclose(reg.singular_values_, [1.0, 1e-2, 0.0], rtol=1e-6, atol=1e-9)
    # The cut equals numpy's pinv with the same relative cut-off.
    expected = np.linalg.pinv(X, rtol=1e-3) @ y
    assert_allclose(reg.coef_, expected, rtol=1e-8)
    full = PinvRegressor(fit_intercept=False, rtol=1e-7, solver=solver)
    if solver == "gram":  # gram cannot resolve σ = 1e-5 σ_max; it says so
        with pytest.warns(GramAccuracyWarning):
            full.fit(X, y)
    else:
        assert full.fit(X, y).rank_ == 3


def test_default_rtol_is_numpy_lstsq_cutoff():
    # Singular value 1e-14 * s_max is kept by lstsq's cut (n * eps ~ 2e-14 here
    # with n = 100) only just: one below and one above the cut.
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((100, 2)))
    for ratio, rank in [(1e-15, 1), (1e-12, 2)]:
        X = (U * [1.0, ratio]) @ np.eye(2)
        reg = PinvRegressor(fit_intercept=False, solver="svd").fit(X, U[:, 0])
        assert reg.rank_ == rank == np.linalg.lstsq(X, U[:, 0], rcond=None)[2]


def _tall_float32_pair():
    # Condition number about 17, 500000 rows: the example, where the
    # old cut-off max(n, d)·eps(float32) = 0.06 dropped x2.
    rng = np.random.RandomState(1137)
    n = 500_000
    x1 = rng.rand(n)
    x2 = 0.3 * x1 + 0.1 * rng.rand(n)
    X = np.column_stack([x1, x2]).astype(np.float32)
    y = (X.astype(float) @ [0.5, 2.0] + 0.1 * rng.rand(n)).astype(np.float32)
    return X, y


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("solver", [*ALL, "stream"])
def test_tall_float32_keeps_a_well_conditioned_direction(solver, fit_intercept):
    X, y = _tall_float32_pair()
    coef, intercept = lstsq_reference(
        X.astype(float), y.astype(float), fit_intercept=fit_intercept
    )
    if solver == "stream":
        reg = PinvRegressor(fit_intercept=fit_intercept)
        for rows in np.array_split(np.arange(len(X)), 4):
            reg.partial_fit(X[rows], y[rows])
    else:
        reg = PinvRegressor(fit_intercept=fit_intercept, solver=solver).fit(X, y)
    assert reg.rank_ in (None, 2)
    assert_allclose(reg.coef_, coef, rtol=1e-5)
    assert_allclose(reg.intercept_, intercept if fit_intercept else 0.0, atol=1e-5)


@pytest.mark.parametrize("solver", ["svd", "qr", "gram", "auto"])
def test_float32_rounding_of_a_collinear_column_is_cut(solver):
    # x3 = x1 + x2 rounded to float32: the third direction is float32
    # rounding alone (σ₃/σ₁ ~ 1e-8), cut as scipy.linalg.lstsq's float32
    # default (eps(float32)) cuts it; float64's max(n, d)·eps would keep it
    # and fit the rounding with coefficients of 1e6.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 3))
    X[:, 2] = X[:, 0] + X[:, 1]
    X32 = X.astype(np.float32)
    y = X32.astype(float) @ [1.0, 2.0, 3.0] + 0.01 * rng.standard_normal(20000)
    reg = PinvRegressor(solver=solver)
    if solver == "gram":  # rank-deficient: it cannot promise 1e-9, and says so
        with pytest.warns(GramAccuracyWarning):
            reg.fit(X32, y)
    else:
        reg.fit(X32, y)
    eps32 = float(np.finfo(np.float32).eps)
    X64 = X32.astype(float) - X32.astype(float).mean(0)
    expected = np.linalg.lstsq(X64, y - y.mean(), rcond=eps32)[0]
    assert reg.rank_ == 2
    assert_allclose(reg.coef_, expected, rtol=1e-5)
    assert_allclose(reg.coef_, [1.0, 2.0, 3.0], rtol=1e-3)  # minimum norm


@pytest.mark.parametrize("solver", ["svd", "qr", "gram", "auto", "stream"])
def test_singular_values_past_the_rank_are_reported_as_zero(solver):
    # A duplicated column: its second singular value is rounding noise,
    # which differs between the routes; each reports it as 0.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 3))
    X[:, 2] = X[:, 1]
    y = X @ [1.0, 1.0, 1.0]
    if solver == "stream":
        reg = PinvRegressor(alpha=1.0).partial_fit(X[:250], y[:250])
        reg.partial_fit(X[250:], y[250:])
    else:
        reg = PinvRegressor(alpha=1.0, solver=solver).fit(X, y)
    s = np.linalg.svd(X - X.mean(0), compute_uv=False)
    assert reg.rank_ == 2
    assert_allclose(reg.singular_values_, [*s[:2], 0.0], rtol=1e-6, atol=0)


@pytest.mark.parametrize("solver", ALL)
def test_multi_output_equals_separate_fits(solver):
    X, Y, _ = make_spectral_regression(100, 5, n_targets=3, noise=1.0, random_state=0)
    reg = PinvRegressor(solver=solver).fit(X, Y)
    assert reg.coef_.shape == (3, 5)
    assert reg.intercept_.shape == (3,)
    for j in range(3):
        single = PinvRegressor(solver=solver).fit(X, Y[:, j])
        assert_allclose(reg.coef_[j], single.coef_, rtol=1e-9)
        assert_allclose(reg.intercept_[j], single.intercept_, rtol=1e-9)
    assert reg.predict(X).shape == (100, 3)
    column = PinvRegressor(solver=solver).fit(X, Y[:, :1])
    assert column.coef_.shape == (1, 5)
    assert column.predict(X).shape == (100, 1)


@pytest.mark.parametrize("solver", ALL)
def test_sample_weight_zero_drops_and_integer_repeats(solver):
    X, y, _ = make_spectral_regression(60, 8, noise=1.0, random_state=0)
    w = np.random.default_rng(0).integers(0, 4, size=60)
    weighted = PinvRegressor(solver=solver).fit(X, y, sample_weight=w)
    repeated = PinvRegressor(solver=solver).fit(np.repeat(X, w, 0), np.repeat(y, w))
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-9)
    coef, intercept = lstsq_reference(X, y, w)
    assert_allclose(weighted.coef_, coef, rtol=1e-9)
    assert_allclose(weighted.intercept_, intercept, rtol=1e-9)


def test_negative_sample_weight_is_refused():
    X, y, _ = make_spectral_regression(20, 3, random_state=0)
    with pytest.raises(ValueError, match=r"[Nn]egative"):
        PinvRegressor().fit(X, y, sample_weight=-np.ones(20))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", SPARSE_OK)
def test_sparse_equals_dense(solver, fmt):
    rng = np.random.default_rng(0)
    X = sp.random_array((400, 30), density=0.2, format=fmt, rng=rng) * 10
    y = rng.standard_normal(400)
    w = rng.uniform(0.5, 2, 400)
    dense = PinvRegressor(solver="svd").fit(X.toarray(), y, sample_weight=w)
    sparse = PinvRegressor(solver=solver).fit(X, y, sample_weight=w)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-8)
    assert_allclose(sparse.predict(X), dense.predict(X.toarray()), rtol=1e-8)


def test_sparse_wide_auto_uses_lsqr():
    rng = np.random.default_rng(0)
    X = sp.random_array((50, 400), density=0.1, format="csr", rng=rng)
    y = rng.standard_normal(50)
    reg = PinvRegressor().fit(X, y)
    assert reg.solver_used_ == "lsqr"
    expected = np.linalg.pinv(X.toarray() - X.toarray().mean(0)) @ (y - y.mean())
    assert rel_err(reg.coef_, expected) <= 1e-8


@pytest.mark.parametrize("solver", ["auto", "gram", "lsqr", "qr"])
def test_sparse_X_is_never_densified(solver):
    rng = np.random.default_rng(0)
    X = sp.random_array((200_000, 100), density=0.01, format="csr", rng=rng)
    y = rng.standard_normal(200_000)
    dense_bytes = X.shape[0] * X.shape[1] * 8
    tracemalloc.start()
    PinvRegressor(solver=solver).fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.3 * dense_bytes


def test_dense_solvers_refuse_sparse_X_clearly():
    X = sp.random_array((50, 5), density=0.5, format="csr", rng=0)
    with pytest.raises(TypeError, match="needs a dense X"):
        PinvRegressor(solver="svd").fit(X, np.ones(50))


@pytest.mark.parametrize("solver", ALL)
def test_float32_is_kept(solver):
    X, y, _ = make_spectral_regression(200, 6, cond=5.0, noise=0.1, random_state=0)
    reg64 = PinvRegressor(solver=solver).fit(X, y)
    reg32 = PinvRegressor(solver=solver).fit(X.astype(np.float32), y)
    assert reg32.coef_.dtype == np.float32
    assert np.asarray(reg32.intercept_).dtype == np.float32
    assert reg32.predict(X.astype(np.float32)).dtype == np.float32
    assert_allclose(reg32.coef_, reg64.coef_, rtol=1e-4, atol=1e-4)
    if reg32.singular_values_ is not None:
        assert reg32.singular_values_.dtype == np.float32


@pytest.mark.parametrize("solver", ALL)
def test_inputs_are_not_modified(solver):
    X, y, _ = make_spectral_regression(80, 5, noise=1.0, offset=3.0, random_state=0)
    w = np.random.default_rng(0).uniform(0.1, 2, 80)
    copies = X.copy(), y.copy(), w.copy()
    PinvRegressor(solver=solver).fit(X, y, sample_weight=w)
    for original, copy in zip((X, y, w), copies, strict=True):
        assert_array_equal(original, copy)


def test_copy_X_false_may_reuse_X_and_gives_the_same_answer():
    X, y, _ = make_spectral_regression(80, 5, noise=1.0, offset=3.0, random_state=0)
    expected = PinvRegressor(solver="svd").fit(X, y)
    X_work = X.copy()
    reg = PinvRegressor(solver="svd", copy_X=False).fit(X_work, y)
    assert_allclose(reg.coef_, expected.coef_, rtol=1e-12)
    assert not np.array_equal(X_work, X)  # centred in place, as documented
    readonly = X.copy()
    readonly.flags.writeable = False
    PinvRegressor(solver="svd", copy_X=False).fit(readonly, y)  # no error


def test_pandas_input_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, _ = make_spectral_regression(50, 3, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    reg = PinvRegressor().fit(frame, pd.Series(y))
    assert list(reg.feature_names_in_) == ["a", "b", "c"]
    assert_allclose(reg.predict(frame), PinvRegressor().fit(X, y).predict(X))


def test_degenerate_data_gives_zero_coefficients():
    # One sample: the centred design is zero, so the minimum-norm answer is 0.
    reg = PinvRegressor().fit([[1.0, 2.0]], [3.0])
    assert_array_equal(reg.coef_, [0.0, 0.0])
    assert reg.intercept_ == 3.0
    assert reg.rank_ == 0


def test_pipeline_and_grid_search_over_solvers():
    X, y, _ = make_spectral_regression(120, 6, noise=0.5, random_state=0)
    pipe = make_pipeline(StandardScaler(), PinvRegressor())
    search = GridSearchCV(
        pipe,
        {
            "pinvregressor__solver": ["svd", "qr", "gram", "lsqr"],
            "pinvregressor__alpha": [0.0, 1.0],
        },
        cv=3,
    ).fit(X, y)
    # ParameterGrid varies the last key (solver) fastest: one row per alpha.
    scores = search.cv_results_["mean_test_score"].reshape(2, 4)
    # Every solver solves the same problem: equal scores for equal alpha.
    assert_allclose(scores, scores[:, :1].repeat(4, axis=1), rtol=1e-9)
    assert scores[0, 0] != scores[1, 0]
    assert search.best_score_ > 0.9


def test_lsqr_reports_hitting_its_iteration_limit():
    X, y, _ = make_spectral_regression(300, 30, cond=1e4, random_state=0)
    reg = PinvRegressor(solver=LSQRSolver(max_iter=2))
    with pytest.warns(Warning, match="max_iter=2"):
        reg.fit(X, y)


def test_nested_solver_parameters_are_searchable():
    reg = PinvRegressor(solver=LSQRSolver())
    reg.set_params(solver__atol=1e-6)
    assert reg.get_params()["solver__atol"] == 1e-6
    fitted = clone(reg).fit(*make_spectral_regression(50, 3, random_state=0)[:2])
    assert fitted.solver_.atol == 1e-6
    assert fitted.solver_ is not reg.solver  # the parameter itself is untouched
