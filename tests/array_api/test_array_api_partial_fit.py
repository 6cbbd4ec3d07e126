"""partial_fit on chunks of an array-API namespace: a stream of device batches.

Each chunk's statistics are formed in its namespace, on its device, and
merged in numpy; the fitted arrays live in the chunks' namespace, and the
fit equals ``fit`` on all the rows.  Chunks from two namespaces or devices
are refused.  Run in the main suite and by ``tests/test_array_api.py``.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import config_context

from skla import GDRegressor, PinvRegressor, TruncatedSVDCompressor
from skla.datasets import make_spectral_regression

xp = pytest.importorskip("array_api_strict")

CHUNKS = [slice(0, 700), slice(700, 1500), slice(1500, 2400), slice(2400, 3000)]


@pytest.fixture(scope="module")
def regression():
    X, y, _ = make_spectral_regression(
        3000, 10, cond=30.0, noise=0.5, offset=4.0, n_targets=2, random_state=3
    )
    w = np.random.default_rng(3).uniform(0.0, 2.0, 3000)
    return X, y, w


def _stream(est, *arrays, device=None):
    """``est.partial_fit`` over the chunks of ``arrays``, on array-api-strict."""
    for rows in CHUNKS:
        chunk = [xp.asarray(a[rows], device=device) for a in arrays]
        est.partial_fit(*chunk[:2], *chunk[2:])
    return est


def _numpy(a):
    return (
        np.asarray(a)
        if not hasattr(a, "__array_namespace__")
        else np.asarray(xp.asarray(a, device=xp.Device("CPU_DEVICE")))
    )


def _in_namespace(est, names):
    for name in names:
        value = getattr(est, name)
        assert hasattr(value, "__array_namespace__"), f"{name} is {type(value)}"


@pytest.mark.parametrize("solver", ["auto", "gram", "qr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_pinv_stream_of_device_chunks_equals_fit(regression, solver, fit_intercept):
    X, y, w = regression
    params = {"solver": solver, "fit_intercept": fit_intercept, "alpha": 0.5}
    with config_context(array_api_dispatch=True):
        streamed = _stream(PinvRegressor(**params), X, y, w)
        fit = PinvRegressor(**params).fit(xp.asarray(X), xp.asarray(y), xp.asarray(w))
        predicted = streamed.predict(xp.asarray(X[:5]))
    _in_namespace(streamed, ("coef_", "singular_values_"))
    assert_allclose(_numpy(streamed.coef_), _numpy(fit.coef_), rtol=1e-6, atol=1e-9)
    if fit_intercept:
        assert_allclose(_numpy(streamed.intercept_), _numpy(fit.intercept_), rtol=1e-6)
    assert streamed.solver_used_.endswith("(streamed)")
    ref = PinvRegressor(**params).fit(X, y, w)
    assert_allclose(_numpy(predicted), ref.predict(X[:5]), rtol=1e-6)


def test_gd_stream_of_device_chunks_equals_fit(regression):
    X, y, w = regression
    params = {"penalty": "l1", "alpha": 0.05, "tol": 1e-12, "max_iter": 5000}
    with config_context(array_api_dispatch=True):
        streamed = _stream(GDRegressor(**params), X, y, w)
        fit = GDRegressor(**params).fit(xp.asarray(X), xp.asarray(y), xp.asarray(w))
    _in_namespace(streamed, ("coef_", "intercept_"))
    assert_allclose(_numpy(streamed.coef_), _numpy(fit.coef_), rtol=1e-6, atol=1e-9)
    assert_allclose(_numpy(streamed.intercept_), _numpy(fit.intercept_), rtol=1e-6)


@pytest.mark.parametrize("n_components", [3, 0.8])
def test_svd_stream_of_device_chunks_equals_fit(regression, n_components):
    X = regression[0]
    with config_context(array_api_dispatch=True):
        streamed = TruncatedSVDCompressor(n_components)
        for rows in CHUNKS:
            streamed.partial_fit(xp.asarray(X[rows]))
        fit = TruncatedSVDCompressor(n_components, algorithm="full")
        fit.fit(xp.asarray(X))
        Z = streamed.transform(xp.asarray(X[:4]))
    _in_namespace(streamed, ("components_", "singular_values_", "explained_variance_"))
    assert streamed.n_components_ == fit.n_components_
    for name in ("singular_values_", "components_", "explained_variance_"):
        assert_allclose(
            _numpy(getattr(streamed, name)),
            _numpy(getattr(fit, name)),
            rtol=1e-6,
            atol=1e-9,
        )
    assert_allclose(_numpy(Z), X[:4] @ _numpy(fit.components_).T, rtol=1e-6)


def test_chunks_from_two_namespaces_or_devices_are_refused(regression):
    X, y, _ = regression
    device1 = xp.Device("device1")
    with config_context(array_api_dispatch=True):
        est = PinvRegressor().partial_fit(xp.asarray(X[:100]), xp.asarray(y[:100]))
        coef = _numpy(est.coef_)
        with pytest.raises(ValueError, match=r"numpy after chunks of array_api_strict"):
            est.partial_fit(X[100:200], y[100:200])
        with pytest.raises(ValueError, match=r"device1.*after chunks of array_api_str"):
            est.partial_fit(
                xp.asarray(X[100:200], device=device1),
                xp.asarray(y[100:200], device=device1),
            )
        assert_allclose(_numpy(est.coef_), coef)  # the refused chunks changed nothing
        svd = TruncatedSVDCompressor(2).partial_fit(X[:100])
        with pytest.raises(
            ValueError, match=r"array_api_strict.*after chunks of numpy"
        ):
            svd.partial_fit(xp.asarray(X[100:200]))


def test_a_refused_fit_leaves_the_estimator_as_it_was(regression):
    """A route refused on the array API (a numpy-only solver, loss or
    estimator) is refused before anything is set: the numpy fit before it
    keeps its n_features_in_ and still predicts."""
    from skla import SGDMiniBatchRegressor

    X, y, _ = regression
    narrow = X[:, :2]
    models = [
        (PinvRegressor(solver="lsqr"), r"solver='lsqr'"),
        (GDRegressor(loss="huber"), r"loss='huber'"),
        (SGDMiniBatchRegressor(max_iter=5, tol=None), "SGDMiniBatchRegressor"),
    ]
    for est, match in models:
        est.fit(narrow, y[:, 0])
        with (
            config_context(array_api_dispatch=True),
            pytest.raises(ValueError, match=match),
        ):
            est.fit(xp.asarray(X), xp.asarray(y[:, 0]))
        assert est.n_features_in_ == 2
        assert est.predict(narrow).shape == (len(X),)
