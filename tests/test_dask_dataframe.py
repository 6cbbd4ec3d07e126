"""dask DataFrames and Series, as a Dask user hands them over.

parquet → ``dd.read_parquet`` → fit → predict → parquet: every estimator
takes the DataFrame (its columns become ``feature_names_in_``), equals the
pandas fit, and predicts or transforms lazily.  Non-numeric columns are
named in the error.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skla import (
    GDRegressor,
    PinvRegressor,
    SGDMiniBatchRegressor,
    TruncatedSVDCompressor,
)
from skla.datasets import make_spectral_regression

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

# dask's parquet reader calls pandas with a keyword pandas 3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")
COLUMNS = [f"x{i}" for i in range(6)]


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """The same table in pandas and as dask read it back from parquet (4
    partitions of unequal sizes; y a Series, w a Series)."""
    X, y, _ = make_spectral_regression(
        2000, 6, cond=20.0, noise=0.5, offset=3.0, random_state=7
    )
    w = np.random.default_rng(7).uniform(0.5, 2.0, 2000)
    table = pd.DataFrame(X, columns=COLUMNS).assign(y=y, w=w)
    path = tmp_path_factory.mktemp("parquet") / "table"
    dd.from_pandas(table, npartitions=4).to_parquet(path)
    lazy = dd.read_parquet(path)
    return table, lazy


def _split(table):
    return table[COLUMNS], table["y"], table["w"]


def _is_lazy(a):
    return type(a).__module__.split(".")[0] == "dask"


@pytest.mark.parametrize(
    ("make", "rtol"),
    [
        (lambda: PinvRegressor(), 1e-9),
        (lambda: PinvRegressor(solver="qr", alpha=2.0), 1e-9),
        (lambda: GDRegressor(tol=1e-12, max_iter=20000), 1e-6),
        (lambda: GDRegressor(penalty="l1", alpha=0.01, tol=1e-12), 1e-6),
        (lambda: GDRegressor(loss="huber", epsilon=1.0, tol=1e-10), 1e-6),
    ],
)
def test_regressors_on_a_dask_dataframe_equal_the_pandas_fit(frames, make, rtol):
    table, lazy = frames
    X, y, w = _split(table)
    Xd, yd, wd = _split(lazy)
    ref = make().fit(X, y, sample_weight=w)
    est = make().fit(Xd, yd, sample_weight=wd)
    assert list(est.feature_names_in_) == COLUMNS
    assert est.n_features_in_ == 6
    assert_allclose(
        est.coef_, ref.coef_, rtol=rtol, atol=rtol * np.abs(ref.coef_).max()
    )
    assert_allclose(est.intercept_, ref.intercept_, rtol=rtol)
    predictions = est.predict(Xd)
    assert _is_lazy(predictions)
    assert_allclose(predictions.compute(), ref.predict(X), rtol=10 * rtol)


def test_sgd_on_a_dask_dataframe_scores_as_the_pandas_fit(frames):
    table, lazy = frames
    X, y, _ = _split(table)
    Xd, yd, _ = _split(lazy)
    params = {"random_state": 0, "max_iter": 30}
    ref = SGDMiniBatchRegressor(**params).fit(X, y)
    est = SGDMiniBatchRegressor(**params).fit(Xd, yd)
    assert list(est.feature_names_in_) == COLUMNS
    predictions = est.predict(Xd)
    assert _is_lazy(predictions)
    assert abs(est.score(X, y) - ref.score(X, y)) < 1e-3


@pytest.mark.parametrize("algorithm", ["auto", "full"])
def test_svd_on_a_dask_dataframe_equals_the_pandas_fit(frames, algorithm):
    table, lazy = frames
    ref = TruncatedSVDCompressor(3, algorithm=algorithm).fit(table[COLUMNS])
    est = TruncatedSVDCompressor(3, algorithm=algorithm).fit(lazy[COLUMNS])
    assert list(est.feature_names_in_) == COLUMNS
    assert_allclose(est.singular_values_, ref.singular_values_, rtol=1e-9)
    assert_allclose(est.components_, ref.components_, rtol=1e-9, atol=1e-12)
    Z = est.transform(lazy[COLUMNS])
    assert _is_lazy(Z)
    assert_allclose(Z.compute(), ref.transform(table[COLUMNS]), rtol=1e-8, atol=1e-9)
    Z2 = TruncatedSVDCompressor(3, algorithm=algorithm).fit_transform(lazy[COLUMNS])
    assert _is_lazy(Z2)
    assert list(est.get_feature_names_out()) == [
        "truncatedsvdcompressor0",
        "truncatedsvdcompressor1",
        "truncatedsvdcompressor2",
    ]


def test_predictions_go_back_to_parquet(frames, tmp_path):
    """The whole round trip: the lazy predictions become a column again."""
    table, lazy = frames
    est = PinvRegressor().fit(lazy[COLUMNS], lazy["y"])
    predictions = est.predict(lazy[COLUMNS])
    out = dd.from_dask_array(predictions, columns="prediction").to_frame()
    out.to_parquet(tmp_path / "predictions")
    back = pd.read_parquet(tmp_path / "predictions")["prediction"].to_numpy()
    assert_allclose(
        back,
        PinvRegressor().fit(table[COLUMNS], table["y"]).predict(table[COLUMNS]),
        rtol=1e-9,
    )


def test_non_numeric_columns_are_named(frames):
    _, lazy = frames
    labelled = lazy.assign(city="Seoul", day=pd.Timestamp("2026-12-07"))
    with pytest.raises(ValueError, match=r"non-numeric columns \['city', 'day'\]"):
        PinvRegressor().fit(labelled.drop(columns=["y", "w"]), lazy["y"])
    with pytest.raises(ValueError, match=r"non-numeric columns \['city'"):
        TruncatedSVDCompressor(2).fit(labelled[[*COLUMNS, "city"]])


def test_column_names_are_checked_before_any_computation(frames):
    """As in memory: predict on renamed or missing columns is refused at
    once, with scikit-learn's words; a dask array of the wrong width too."""
    _, lazy = frames
    est = PinvRegressor().fit(lazy[COLUMNS], lazy["y"])
    renamed = lazy[COLUMNS].rename(columns={"x0": "other"})
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(renamed)
    with (
        pytest.warns(UserWarning, match="valid feature names"),
        pytest.raises(ValueError, match="X has 5 features"),
    ):
        est.predict(da.from_array(np.ones((40, 5)), chunks=10))
    svd = TruncatedSVDCompressor(2).fit(lazy[COLUMNS])
    with pytest.raises(ValueError, match="feature names should match"):
        svd.transform(renamed)
