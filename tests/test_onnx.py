"""ONNX export (skla.onnx): onnxruntime reproduces predict and transform."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skla import (
    GDRegressor,
    PinvRegressor,
    SGDMiniBatchRegressor,
    TruncatedSVDCompressor,
)

skl2onnx = pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")
import skla.onnx  # noqa: E402  (registers the converters; needs skl2onnx)

REGRESSORS = {
    "pinv": lambda fit_intercept: PinvRegressor(fit_intercept=fit_intercept),
    "gd": lambda fit_intercept: GDRegressor(fit_intercept=fit_intercept),
    "sgd": lambda fit_intercept: SGDMiniBatchRegressor(
        fit_intercept=fit_intercept, random_state=0
    ),
}
# float32 products of ~10 features: rounding near 1e-6 of |y|; 1e-4 leaves room.
RTOL = ATOL = 1e-4


def _data(n_targets=None, n_samples=200, n_features=8, dtype=np.float32):
    """X and y = X β + 3 (+ noise), y of shape (n,) or (n, n_targets)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, n_features)) + 1.0
    beta = rng.standard_normal((n_features, n_targets or 1))
    y = X @ beta + 3.0 + 0.1 * rng.standard_normal((n_samples, n_targets or 1))
    return X.astype(dtype), (y[:, 0] if n_targets is None else y).astype(dtype)


def _run(model, X):
    """The ONNX graph of ``model`` run by onnxruntime on X."""
    onx = skl2onnx.to_onnx(model, X[:1])
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (output,) = session.run(None, {session.get_inputs()[0].name: X})
    return output


@pytest.mark.parametrize("name", sorted(REGRESSORS))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [None, 1, 3])
def test_regressor_matches_predict(name, fit_intercept, n_targets):
    """Single target: (n, 1), as skl2onnx's LinearRegression; y of shape
    (n, k): (n, k), equal to predict to 1e-4."""
    X, y = _data(n_targets)
    model = REGRESSORS[name](fit_intercept).fit(X, y)
    output = _run(model, X)
    assert output.dtype == np.float32
    assert output.shape == (len(X), n_targets or 1)
    expected = model.predict(X).reshape(output.shape)
    np.testing.assert_allclose(output, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("n_components", [1, 5])
def test_truncated_svd_matches_transform(n_components):
    X, _ = _data()
    model = TruncatedSVDCompressor(n_components, random_state=0).fit(X)
    output = _run(model, X)
    assert output.shape == (len(X), n_components)
    np.testing.assert_allclose(output, model.transform(X), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "model",
    [
        PinvRegressor(alpha=1.0),
        GDRegressor(),
        SGDMiniBatchRegressor(random_state=0),
        TruncatedSVDCompressor(4),
    ],
    ids=lambda m: type(m).__name__,
)
def test_double_input_computes_in_float64(model):
    """A DoubleTensorType input: a float64 graph, as close as float64 allows."""
    X, y = _data(n_targets=2, dtype=np.float64)
    model.fit(X, y)
    output = _run(model, X)
    expected = model.predict(X) if hasattr(model, "predict") else model.transform(X)
    assert output.dtype == np.float64
    np.testing.assert_allclose(output, expected, rtol=1e-12, atol=1e-12)


def test_a_float64_fit_on_float32_input():
    """Fitted in float64, exported for float32 input: the coefficients are
    rounded to float32, within 1e-4 of predict's float64 answer."""
    X, y = _data(n_targets=2, dtype=np.float64)
    model = PinvRegressor().fit(X, y)
    output = _run(model, X.astype(np.float32))
    np.testing.assert_allclose(output, model.predict(X), rtol=RTOL, atol=ATOL)


def test_integer_input_is_cast_to_float32():
    X, y = _data()
    model = PinvRegressor().fit(X.round(), y)
    X_int = X.round().astype(np.int64)
    output = _run(model, X_int)
    assert output.dtype == np.float32
    np.testing.assert_allclose(output[:, 0], model.predict(X_int), rtol=RTOL)


@pytest.mark.parametrize("name", sorted(REGRESSORS))
@pytest.mark.parametrize("n_targets", [None, 2])
def test_pipelines(name, n_targets):
    """Behind StandardScaler, and behind TruncatedSVDCompressor."""
    X, y = _data(n_targets)
    for first in (StandardScaler(), TruncatedSVDCompressor(5, random_state=0)):
        pipeline = make_pipeline(first, REGRESSORS[name](True)).fit(X, y)
        output = _run(pipeline, X)
        expected = pipeline.predict(X).reshape(output.shape)
        np.testing.assert_allclose(output, expected, rtol=RTOL, atol=ATOL)


def test_pipeline_of_transformers():
    X, _ = _data()
    pipeline = make_pipeline(StandardScaler(), TruncatedSVDCompressor(3)).fit(X)
    output = _run(pipeline, X)
    np.testing.assert_allclose(output, pipeline.transform(X), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "model",
    [PinvRegressor(), GDRegressor(), SGDMiniBatchRegressor(), TruncatedSVDCompressor()],
    ids=lambda m: type(m).__name__,
)
def test_an_unfitted_estimator_is_refused_by_name(model):
    X, _ = _data()
    with pytest.raises(ValueError, match=f"{type(model).__name__} instance is not"):
        skl2onnx.to_onnx(model, X[:1])


@pytest.mark.parametrize(
    ("model", "attribute"),
    [(PinvRegressor(), "coef_"), (TruncatedSVDCompressor(3), "components_")],
)
def test_array_api_attributes_are_refused_by_name(model, attribute):
    """A fit under array_api_dispatch keeps its arrays in X's namespace (and
    device); the export does not copy them to the host behind the user's
    back."""
    xp = pytest.importorskip("array_api_strict")
    X, y = _data()
    model.fit(X, y)
    setattr(model, attribute, xp.asarray(getattr(model, attribute)))
    message = f"{type(model).__name__}.{attribute} is a array_api_strict"
    with pytest.raises(TypeError, match=message):
        skl2onnx.to_onnx(model, X[:1])


def test_the_wrong_number_of_columns_is_refused():
    X, y = _data()
    model = GDRegressor().fit(X, y)
    with pytest.raises(ValueError, match="GDRegressor was fitted on 8 features"):
        skl2onnx.to_onnx(model, X[:1, :3])


def test_a_subclass_is_not_converted():
    """skl2onnx finds converters by exact class: a subclass, which may
    predict otherwise, is refused with its name until it registers its own."""

    class ShiftedRegressor(PinvRegressor):
        def predict(self, X):
            return super().predict(X) + 1.0

    X, y = _data()
    with pytest.raises(RuntimeError, match="ShiftedRegressor"):
        skl2onnx.to_onnx(ShiftedRegressor().fit(X, y), X[:1])


def test_register_is_idempotent():
    skla.onnx.register()
    skla.onnx.register()
    X, y = _data()
    model = PinvRegressor().fit(X, y)
    np.testing.assert_allclose(_run(model, X)[:, 0], model.predict(X), rtol=RTOL)


def test_import_skla_does_not_import_skl2onnx():
    code = (
        "import skla, sys; "
        "assert not {'skl2onnx', 'onnx', 'onnxruntime'} & set(sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_skla_onnx_imports_without_skl2onnx():
    """Walking the package (skla.utils.discovery) imports skla.onnx; without
    skl2onnx it imports, and register() says what to install."""
    code = (
        "import sys; sys.modules['skl2onnx'] = None; import skla.onnx\n"
        "try:\n    skla.onnx.register()\nexcept ImportError as e:\n"
        "    assert 'skla[onnx]' in str(e), e\nelse:\n    raise AssertionError\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_streamed_and_dask_fits_convert_as_any_other():
    """A model fitted chunk by chunk (partial_fit) or on a dask array holds
    numpy arrays like any other fit, and converts (as the deployment page
    says)."""
    da = pytest.importorskip("dask.array")
    X, y = _data()
    streamed = PinvRegressor()
    for rows in np.array_split(np.arange(len(X)), 4):
        streamed.partial_fit(X[rows], y[rows])
    svd = TruncatedSVDCompressor(3).fit(da.from_array(X, chunks=50))
    np.testing.assert_allclose(
        _run(streamed, X)[:, 0], streamed.predict(X), rtol=RTOL, atol=ATOL
    )
    np.testing.assert_allclose(_run(svd, X), svd.transform(X), rtol=RTOL, atol=ATOL)
