"""The estimators on arrays of other array-API namespaces (dispatch on).

scikit-learn's ``check_array_api_input`` with ``check_values=True``, for
array-api-strict (always) and torch on the CPU (where installed), then
values against the numpy fit on larger, well-conditioned data, and the
refusals.  Run by ``tests/test_array_api.py`` with ``SCIPY_ARRAY_API=1``.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.utils.estimator_checks import (
    check_array_api_input,
    check_array_api_same_namespace,
)

from skla import (
    GDRegressor,
    PinvRegressor,
    SGDMiniBatchRegressor,
    TruncatedSVDCompressor,
)
from skla.components.svd import AutoSVD
from skla.datasets import make_spectral_regression

xp = pytest.importorskip("array_api_strict")

ESTIMATORS = [
    PinvRegressor(),
    PinvRegressor(solver="qr", fit_intercept=False),
    PinvRegressor(solver="svd", alpha=1.0),
    # Noise-level singular values (rank-deficient check data) differed
    # between the numpy and namespace routes: now 0 on both.
    PinvRegressor(alpha=1.0),
    PinvRegressor(solver="gram", alpha=1.0),
    GDRegressor(),
    GDRegressor(penalty="elasticnet", alpha=0.01),
    GDRegressor(penalty="l2", alpha=0.1, fit_intercept=False),
    TruncatedSVDCompressor(),
    TruncatedSVDCompressor(0.9, algorithm="randomized", random_state=0),
    TruncatedSVDCompressor(3, algorithm="full"),
]
# scikit-learn's own pairs: array-api-strict's second device has no float64.
NAMESPACES = [
    ("array_api_strict", "CPU_DEVICE", "float64"),
    ("array_api_strict", "device1", "float32"),
    ("torch", "cpu", "float64"),
    ("torch", "cpu", "float32"),
]


class MySVD:
    """A third-party SVD solver: numpy code."""

    def svd(self, X, n_components, *, random_state=None):
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        return U[:, :n_components], s[:n_components], Vt[:n_components]


def _ids(value):
    return repr(value) if not isinstance(value, tuple) else "-".join(value)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
@pytest.mark.parametrize("namespace", NAMESPACES, ids=_ids)
@pytest.mark.parametrize("sample_weight", [False, True])
def test_array_api_input_values(estimator, namespace, sample_weight):
    array_namespace, device, dtype = namespace
    if array_namespace == "torch":
        pytest.importorskip("torch")
    check_array_api_input(
        type(estimator).__name__,
        estimator,
        array_namespace,
        device_name=device,
        dtype_name=dtype,
        check_values=True,
        check_sample_weight=sample_weight,
    )


@pytest.mark.parametrize(
    "estimator", [PinvRegressor(), GDRegressor(), TruncatedSVDCompressor()], ids=_ids
)
def test_array_api_same_namespace(estimator):
    check_array_api_same_namespace(
        type(estimator).__name__, estimator, "array_api_strict"
    )


@pytest.fixture(scope="module")
def regression():
    X, y, _ = make_spectral_regression(
        3000, 12, cond=30.0, noise=0.5, offset=4.0, n_targets=2, random_state=0
    )
    w = np.random.default_rng(0).uniform(0.0, 2.0, 3000)
    return X, y, w


def _on_strict(*arrays):
    return [xp.asarray(a) for a in arrays]


@pytest.mark.parametrize("solver", ["auto", "gram", "qr", "svd"])
@pytest.mark.parametrize("alpha", [0.0, 10.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_array_api_pinv_equals_the_numpy_fit(regression, solver, alpha, fit_intercept):
    """Every route, ridge or not, with weights and two targets: numpy's
    coefficients to 1e-10 relative, attributes in the namespace, predictions
    in the namespace."""
    X, y, w = regression
    params = {"solver": solver, "alpha": alpha, "fit_intercept": fit_intercept}
    ref = PinvRegressor(**params).fit(X, y, sample_weight=w)
    with config_context(array_api_dispatch=True):
        est = PinvRegressor(**params).fit(*_on_strict(X, y, w))
        predictions = est.predict(xp.asarray(X))
    names = ("coef_", "singular_values_") + ("intercept_",) * fit_intercept
    for name in names:  # without an intercept, intercept_ is 0.0 (as sklearn)
        assert type(getattr(est, name)) is type(xp.asarray(0.0)), name
    coef = np.asarray(est.coef_)
    assert np.max(np.abs(coef - ref.coef_)) <= 1e-10 * np.max(np.abs(ref.coef_))
    assert_allclose(np.asarray(est.intercept_), ref.intercept_, rtol=1e-10, atol=1e-12)
    assert_allclose(np.asarray(est.singular_values_), ref.singular_values_, rtol=1e-10)
    assert type(predictions) is type(xp.asarray(0.0))
    assert_allclose(np.asarray(predictions), ref.predict(X), rtol=1e-10, atol=1e-10)
    expected = "gram" if solver in ("auto", "gram") else "qr"
    assert est.solver_used_ == f"{expected} (array_api_strict)"


@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
def test_array_api_gd_equals_the_numpy_fit(regression, penalty):
    X, y, w = regression
    params = {"penalty": penalty, "alpha": 0.05, "tol": 1e-12, "max_iter": 20000}
    ref = GDRegressor(**params).fit(X, y, sample_weight=w)
    with config_context(array_api_dispatch=True):
        est = GDRegressor(**params).fit(*_on_strict(X, y, w))
    coef = np.asarray(est.coef_)
    assert np.max(np.abs(coef - ref.coef_)) <= 1e-10 * np.max(np.abs(ref.coef_))
    assert_allclose(np.asarray(est.intercept_), ref.intercept_, rtol=1e-10)
    np.testing.assert_array_equal(coef == 0, ref.coef_ == 0)


def test_array_api_ill_conditioned_auto_takes_the_r_factor():
    """At cond 1e7 the scatter matrix fails auto's test: the R factor,
    QR's accuracy (numpy's fit to 1e-6)."""
    X, y, _ = make_spectral_regression(
        2000, 10, cond=1e7, noise=0.1, offset=3.0, random_state=1
    )
    with config_context(array_api_dispatch=True):
        est = PinvRegressor().fit(*_on_strict(X, y))
    assert est.solver_used_ == "qr (array_api_strict)"
    ref = PinvRegressor().fit(X, y).coef_
    assert np.max(np.abs(np.asarray(est.coef_) - ref)) <= 1e-6 * np.max(np.abs(ref))


class _AutoRandomized:
    """In numpy, the randomized route that "auto" takes on the array API."""

    def svd(self, X, n_components, *, random_state):
        return AutoSVD()._randomized().svd(X, n_components, random_state=random_state)


@pytest.mark.parametrize(
    ("n_components", "algorithm"),
    [(6, "auto"), (6, "randomized"), (0.8, "auto"), (40, "auto"), (6, "full")],
)
def test_array_api_truncated_svd_equals_the_numpy_fit(n_components, algorithm):
    """The randomized route draws the in-memory test matrix (same seed, the
    same basis span), the exact one takes the SVD on the device: numpy's
    singular values, components and figures; coordinates in the namespace."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((700, 300)) * 0.97 ** np.arange(300) + 0.5
    params = {"algorithm": algorithm, "random_state": 0}
    ref = TruncatedSVDCompressor(n_components, **params)
    if algorithm == "auto" and isinstance(n_components, int) and n_components < 75:
        # In numpy "auto" takes block Lanczos at a rank; on the array API its
        # randomized route, compared with that route in numpy.
        ref.set_params(algorithm=_AutoRandomized())
    Z_ref = ref.fit_transform(X)
    with config_context(array_api_dispatch=True):
        est = TruncatedSVDCompressor(n_components, **params)
        Z = est.fit_transform(xp.asarray(X))
        back = est.inverse_transform(Z)
        again = est.transform(xp.asarray(X))
    assert est.n_components_ == ref.n_components_
    assert_allclose(np.asarray(est.singular_values_), ref.singular_values_, rtol=1e-9)
    assert_allclose(np.asarray(est.components_), ref.components_, atol=1e-8)
    for name in (
        "explained_variance_",
        "explained_variance_ratio_",
        "explained_energy_ratio_",
    ):
        assert_allclose(np.asarray(getattr(est, name)), getattr(ref, name), rtol=1e-8)
    assert est.reconstruction_error_ == pytest.approx(ref.reconstruction_error_, 1e-9)
    expected = (
        (Z, Z_ref),
        (again, ref.transform(X)),
        (back, ref.inverse_transform(Z_ref)),
    )
    for out, want in expected:
        assert type(out) is type(xp.asarray(0.0))
        assert_allclose(np.asarray(out), want, atol=1e-8)


def test_array_api_routes_without_it_name_themselves(regression):
    """numpy-only solvers, losses and SGD (fit and partial_fit) raise an
    error naming the component and the namespace; numpy and sparse input keep the numpy
    route with dispatch on."""
    import scipy.sparse as sp

    X, y, _ = regression
    Xs, ys = _on_strict(X, y)
    with config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match=r"solver='lsqr'.*array_api_strict"):
            PinvRegressor(solver="lsqr").fit(Xs, ys)
        with pytest.raises(ValueError, match=r"loss='huber'.*array_api_strict"):
            GDRegressor(loss="huber").fit(Xs, ys)
        with pytest.raises(
            ValueError, match=r"SGDMiniBatchRegressor.*array_api_strict"
        ):
            SGDMiniBatchRegressor().fit(Xs, ys[:, 0])
        with pytest.raises(ValueError, match=r"algorithm=.*array_api_strict"):
            TruncatedSVDCompressor(algorithm=MySVD()).fit(Xs)
        with pytest.raises(ValueError, match=r"partial_fit.*array_api_strict"):
            SGDMiniBatchRegressor().partial_fit(Xs, ys[:, 0])
        numpy_fit = PinvRegressor().fit(X, y)
        sparse_fit = PinvRegressor().fit(sp.csr_matrix(X), y)
    assert isinstance(numpy_fit.coef_, np.ndarray)
    assert isinstance(sparse_fit.coef_, np.ndarray)
    assert_allclose(sparse_fit.coef_, numpy_fit.coef_, rtol=1e-8)


def test_array_api_float32_sums_in_float64():
    """float32 data far from 0 (offset 100) on many rows: the mean, the
    scatter matrix and the variances are summed in float64 on the device,
    as the numpy routes sum them; a float32 sum would be off by half."""
    rng = np.random.default_rng(5)
    X = (rng.standard_normal((200_000, 8)) + 100.0).astype(np.float32)
    y = (X @ np.linspace(-1, 1, 8) + rng.standard_normal(200_000)).astype(np.float32)
    ref = PinvRegressor().fit(X, y)
    svd_ref = TruncatedSVDCompressor(2, algorithm="full").fit(X)
    with config_context(array_api_dispatch=True):
        est = PinvRegressor().fit(*_on_strict(X, y))
        svd = TruncatedSVDCompressor(2, algorithm="full").fit(xp.asarray(X))
    coef = np.asarray(est.coef_)
    assert np.max(np.abs(coef - ref.coef_)) <= 1e-4 * np.max(np.abs(ref.coef_))
    for name in ("explained_variance_", "explained_variance_ratio_"):
        assert_allclose(
            np.asarray(getattr(svd, name)), getattr(svd_ref, name), rtol=1e-4
        )


def test_array_api_extreme_values_scalar_weights_and_namespaces():
    """Squares that overflow the scatter matrix: "auto" takes R, "gram"
    names the problem; a scalar sample_weight is a weight; inverse_transform
    checks the namespace as transform does."""
    from skla._algorithms.statistics import ScatterRangeError

    rng = np.random.default_rng(6)
    X = rng.standard_normal((300, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(300)
    ref = PinvRegressor().fit(X, y)
    with config_context(array_api_dispatch=True):
        big = PinvRegressor().fit(*_on_strict(X * 1e200, y))
        with pytest.raises(ScatterRangeError, match="overflow"):
            PinvRegressor(solver="gram").fit(*_on_strict(X * 1e200, y))
        weighted = PinvRegressor().fit(*_on_strict(X, y), sample_weight=2.0)
        svd = TruncatedSVDCompressor(2).fit(xp.asarray(X))
        with pytest.raises(ValueError, match="must use the same namespace"):
            svd.inverse_transform(np.ones((2, 2)))
    assert big.solver_used_ == "qr (array_api_strict)"
    assert_allclose(np.asarray(big.coef_) * 1e200, ref.coef_, rtol=1e-10)
    assert_allclose(np.asarray(weighted.coef_), ref.coef_, rtol=1e-10)
