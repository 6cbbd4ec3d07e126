"""Dask arrays: PinvRegressor's fit reduces row statistics over the chunks.

The cluster is the ``client`` fixture of ``conftest.py``: a LocalCluster on
127.0.0.1 only, two worker processes with 1 GiB each.
"""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import skla
from skla import PinvRegressor
from skla.components.lstsq import GramAccuracyWarning
from skla.datasets import make_spectral_regression

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


def relative(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b))


def test_import_skla_does_not_import_dask():
    code = "import skla, sys; assert 'dask' not in sys.modules, 'dask imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_default_scheduler_without_a_client():
    """No client: dask's default (threaded) scheduler runs the reduction."""
    X, y, _ = make_spectral_regression(5000, 8, cond=10.0, noise=1.0, random_state=0)
    streamed = PinvRegressor().fit(da.from_array(X, chunks=(700, 8)), y)
    assert relative(streamed.coef_, PinvRegressor().fit(X, y).coef_) < 1e-10


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fit_on_the_cluster_equals_the_numpy_fit(client, fit_intercept):
    """Chunked by rows and columns, with weights and two targets: the numpy
    fit's coefficients to 1e-10; fitted attributes are numpy arrays.  On
    well-conditioned data "auto" keeps the scatter matrix, as fit's "auto"
    keeps the normal equations; "qr" reduces R factors."""
    rng = np.random.default_rng(1)
    X, y, _ = make_spectral_regression(
        6000, 12, cond=10.0, noise=1.0, offset=30.0, n_targets=2, random_state=1
    )
    w = rng.uniform(0.0, 2.0, 6000)
    Xd = da.from_array(X, chunks=(1000, 5))
    yd, wd = da.from_array(y, chunks=(1500, 2)), da.from_array(w, chunks=800)
    est = PinvRegressor(fit_intercept=fit_intercept, alpha=0.5)
    est.fit(Xd, yd, sample_weight=wd)
    ref = PinvRegressor(fit_intercept=fit_intercept, alpha=0.5).fit(X, y, w)
    assert isinstance(est.coef_, np.ndarray)
    assert est.coef_.shape == ref.coef_.shape == (2, 12)
    assert relative(est.coef_, ref.coef_) < 1e-10
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-10, atol=1e-10)
    assert est.rank_ == ref.rank_
    assert est.solver_used_ == "gram (dask)"
    assert est.n_features_in_ == 12
    pickle.loads(pickle.dumps(est))
    qr = PinvRegressor(fit_intercept=fit_intercept, alpha=0.5, solver="qr")
    qr.fit(Xd, yd, sample_weight=wd)
    assert qr.solver_used_ == "qr (dask)"
    assert relative(qr.coef_, ref.coef_) < 1e-10


def test_ill_conditioned_data_keep_qrs_accuracy(client):
    """The scatter matrix fails "auto"'s accuracy test at cond 1e7: a second
    pass reduces R factors, QR's accuracy (the numpy fit to 1e-6).  Data
    whose squares overflow take R at once (solver="gram" refuses them)."""
    X, y, _ = make_spectral_regression(
        8000, 20, cond=1e7, noise=0.1, offset=5.0, random_state=2
    )
    est = PinvRegressor().fit(da.from_array(X, chunks=(1000, 20)), y)
    assert est.solver_used_ == "qr (dask)"
    assert relative(est.coef_, PinvRegressor().fit(X, y).coef_) < 1e-6
    gram = PinvRegressor(solver="gram")
    with pytest.warns(GramAccuracyWarning):
        gram.fit(da.from_array(X, chunks=(1000, 20)), y)
    assert relative(gram.coef_, PinvRegressor().fit(X, y).coef_) > 1e-4
    huge, small = X[:2000, :5] * 1e200, X[:2000, :5]
    big = PinvRegressor().fit(da.from_array(huge, chunks=500), y[:2000])
    assert big.solver_used_ == "qr (dask)"
    assert (
        relative(big.coef_ * 1e200, PinvRegressor().fit(small, y[:2000]).coef_) < 1e-10
    )
    with pytest.raises(ValueError, match="beyond 1e"):
        PinvRegressor(solver="gram").fit(da.from_array(huge, chunks=500), y[:2000])


def test_predict_is_lazy_and_chunked_like_x(client):
    X, y, _ = make_spectral_regression(3000, 6, noise=1.0, random_state=3)
    Xd = da.from_array(X, chunks=(500, 3))
    est = PinvRegressor().fit(Xd, y)
    predictions = est.predict(Xd)
    assert isinstance(predictions, da.Array)
    assert predictions.chunks == ((500,) * 6,)
    assert_allclose(predictions.compute(), est.predict(X), rtol=1e-12)
    Y2 = np.column_stack([y, -y])
    two = PinvRegressor().fit(Xd, Y2).predict(Xd)
    assert two.chunks == ((500,) * 6, (2,))


def test_bad_chunks_are_refused(client):
    X = np.ones((100, 3))
    X[57, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PinvRegressor().fit(da.from_array(X, chunks=(25, 3)), np.ones(100))
    with pytest.raises(ValueError, match="y has 90 rows but X has 100"):
        PinvRegressor().fit(da.from_array(np.ones((100, 3))), np.ones(90))


@pytest.mark.parametrize("penalty", [None, "l1", "elasticnet"])
def test_gd_squared_loss_on_the_cluster(client, penalty):
    """The scatter matrix once over the chunks, the solver locally: the
    numpy fit to 1e-6 at tol 1e-10, the same Lasso zeros."""
    X, y, _ = make_spectral_regression(
        5000, 10, cond=5.0, noise=1.0, offset=20.0, random_state=4
    )
    from skla import GDRegressor

    params = {"penalty": penalty, "alpha": 0.05, "tol": 1e-10}
    est = GDRegressor(**params).fit(da.from_array(X, chunks=(900, 10)), y)
    ref = GDRegressor(**params).fit(X, y)
    assert relative(est.coef_, ref.coef_) < 1e-6
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6)
    np.testing.assert_array_equal(est.coef_ == 0, ref.coef_ == 0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("loss", "penalty", "n_targets", "max_iter"),
    [
        ("squared_epsilon_insensitive", None, 1, 1000),  # to convergence
        ("huber", "l1", 1, 40),
        ("rmse", "elasticnet", 2, 40),
    ],
)
def test_gd_other_losses_map_reduce_on_the_cluster(
    client, loss, penalty, n_targets, max_iter
):
    """Any separable loss (and RMSE, through its core): one map-reduce of
    value and gradient per point over persisted chunks, with weights and
    chunked columns.  Every point is a round trip to the cluster (~30 ms
    here), so two cases compare the first 40 iterates, which equal numpy's
    only if every value and gradient does; one runs to convergence (the
    numpy fit to 1e-7; the issue asks 1e-5), then warm-starts there."""
    from skla import GDRegressor

    X, y, _ = make_spectral_regression(
        2000, 6, cond=3.0, noise=1.0, offset=3.0, n_targets=n_targets, random_state=4
    )
    w = np.random.default_rng(4).uniform(0.0, 2.0, 2000)
    Xd, yd = da.from_array(X, chunks=(800, 4)), da.from_array(y, chunks=700)
    params = {"loss": loss, "penalty": penalty, "alpha": 0.01, "tol": 1e-6}
    params["max_iter"] = max_iter
    est = GDRegressor(**params).fit(Xd, yd, sample_weight=da.from_array(w, chunks=900))
    ref = GDRegressor(**params).fit(X, y, sample_weight=w)
    assert relative(est.coef_, ref.coef_) < 1e-7
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-7)
    assert est.n_iter_ == ref.n_iter_
    assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=1e-10)
    assert isinstance(est.coef_, np.ndarray)
    assert est.coef_.shape == ref.coef_.shape
    if max_iter < 1000:
        return
    assert est.n_iter_ < max_iter
    # A warm start at the solution stops at once, within tol of it.
    warm = GDRegressor(**params, warm_start=True)
    warm.coef_, warm.intercept_, warm.n_features_in_ = ref.coef_, ref.intercept_, 6
    assert warm.fit(Xd, yd, sample_weight=w).n_iter_ <= 2
    assert relative(warm.coef_, ref.coef_) < 1e-5


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_gd_other_losses_read_each_chunk_once():
    """The statistics are taken from the persisted chunks: X's chunks are
    computed once for the whole fit, not once for the statistics and again
    for the chunks kept on the workers."""
    import dask

    from skla import GDRegressor

    X = np.random.default_rng(3).standard_normal((400, 3))
    y = X @ [1.0, 2.0, -1.0]
    reads = []

    def read(block):
        reads.append(len(block))
        return block

    Xd = da.from_array(X, chunks=100).map_blocks(read, dtype=X.dtype)
    with dask.config.set(scheduler="sync"):
        GDRegressor(loss="huber", max_iter=5, tol=0.0).fit(Xd, y)
    assert sorted(n for n in reads if n) == [100] * 4  # 0: dask probing dtypes


def test_a_loss_that_does_not_add_up_over_chunks_is_refused():
    """A loss without ``separable`` (or ``core``/``combine``) is refused
    before any pass: adding up its chunks could be silently wrong."""
    from skla import GDRegressor

    class MaxError:
        def value(self, y, y_pred, sample_weight):
            return float(np.max(np.abs(y - y_pred)))

        def gradient(self, y, y_pred, sample_weight):
            raise AssertionError("never evaluated")

    X = np.random.default_rng(9).standard_normal((100, 3))
    with pytest.raises(ValueError, match=r"cannot add up loss=.*separable"):
        GDRegressor(loss=MaxError()).fit(da.from_array(X, chunks=30), X[:, 0])


@pytest.mark.parametrize("n_components", [4, 0.95])
def test_truncated_svd_on_the_cluster(client, n_components):
    """The exact SVD from X's R factor reduced over the chunks: the numpy
    fit(algorithm="full")'s singular values, components and figures; the
    transforms are lazy."""
    from skla import TruncatedSVDCompressor

    rng = np.random.default_rng(5)
    X = rng.standard_normal((4000, 15)) * np.logspace(0, -2, 15) + 1.0
    Xd = da.from_array(X, chunks=(700, 8))
    est = TruncatedSVDCompressor(n_components).fit(Xd)
    ref = TruncatedSVDCompressor(n_components, algorithm="full").fit(X)
    assert est.n_components_ == ref.n_components_
    assert_allclose(est.singular_values_, ref.singular_values_, rtol=1e-10)
    assert_allclose(est.components_, ref.components_, atol=1e-10)
    assert_allclose(est.explained_variance_ratio_, ref.explained_variance_ratio_)
    Z = est.transform(Xd)
    assert isinstance(Z, da.Array)
    assert_allclose(Z.compute(), ref.transform(X), atol=1e-9)
    back = est.inverse_transform(Z)
    assert isinstance(back, da.Array)
    assert_allclose(back.compute(), ref.inverse_transform(ref.transform(X)), atol=1e-9)


def _status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_x_larger_than_a_worker_is_never_gathered(client):
    """8e6 × 50 (3.2 GB), generated lazily on workers of 1 GiB: the fit is
    the least-squares one, and the client's peak memory grows by far less
    than X."""
    n, d = 8_000_000, 50
    rng = da.random.default_rng(0)
    X = rng.standard_normal((n, d), chunks=(100_000, d)) + 3.0
    beta = np.linspace(-1.0, 1.0, d)
    y = X @ beta + 2.0 + 0.1 * rng.standard_normal(n, chunks=100_000)
    with open("/proc/self/clear_refs", "w") as f:  # reset the peak mark
        f.write("5")
    before = _status_bytes("VmRSS")
    est = PinvRegressor().fit(X, y)
    growth = _status_bytes("VmHWM") - before
    assert growth < 0.05 * n * d * 8  # 160 MB, against 3.2 GB of X
    assert_allclose(est.coef_, beta, atol=1e-3)  # noise 0.1 on 8e6 rows
    assert est.intercept_ == pytest.approx(2.0, abs=1e-3)


def test_sgd_epochs_run_on_the_chunks_workers(client):
    """Chunks visited in a random order with partial_fit on their workers:
    the in-memory fit's R² within 1e-3 for the same number of epochs; a
    ConvergenceWarning at max_iter, as in memory."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import r2_score

    from skla import SGDMiniBatchRegressor

    rng = np.random.default_rng(6)
    X = rng.standard_normal((20_000, 10)) * rng.uniform(0.5, 3.0, 10) + 5.0
    y = X @ rng.standard_normal(10) + 1.0 + rng.standard_normal(20_000)
    Xd, yd = da.from_array(X, chunks=(2500, 10)), da.from_array(y, chunks=2500)
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        on_dask = SGDMiniBatchRegressor(random_state=0, max_iter=5).fit(Xd, yd)
    in_memory = SGDMiniBatchRegressor(random_state=0, max_iter=5, tol=None)
    in_memory.fit(X, y)
    assert on_dask.n_iter_ == 5
    assert isinstance(on_dask.coef_, np.ndarray)
    r2_dask = r2_score(y, on_dask.predict(X))
    assert abs(r2_dask - r2_score(y, in_memory.predict(X))) < 1e-3
    assert isinstance(on_dask.predict(Xd), da.Array)
    with pytest.raises(ValueError, match="early_stopping"):
        SGDMiniBatchRegressor(early_stopping=True).fit(Xd, yd)


def test_sgd_on_the_cluster_stops_as_fit_does(client):
    """The stopping rule is fit's: stopped by tol far from the optimum, the
    optimality check (a map-reduce over the chunks) warns as in memory; the
    "adaptive" schedule's smaller steps at plateaus carry over from chunk to
    chunk, so it stops where the in-memory fit does, not at max_iter."""
    from sklearn.exceptions import ConvergenceWarning

    from skla import SGDMiniBatchRegressor

    rng = np.random.default_rng(6)
    X = rng.standard_normal((8000, 6)) * rng.uniform(0.5, 3.0, 6) + 5.0
    y = X @ rng.standard_normal(6) + 1.0 + rng.standard_normal(8000)
    Xd, yd = da.from_array(X, chunks=(4000, 6)), da.from_array(y, chunks=4000)
    too_small = {"learning_rate": "constant", "eta0": 1e-6, "tol": 10.0}
    for data in ((X, y), (Xd, yd)):
        with pytest.warns(ConvergenceWarning, match="far from the optimum"):
            est = SGDMiniBatchRegressor(random_state=0, **too_small).fit(*data)
        assert est.n_iter_ == 6  # 1 + n_iter_no_change epochs, then the check
    adaptive = {"learning_rate": "adaptive", "eta0": 1e-3, "random_state": 0}
    on_dask = SGDMiniBatchRegressor(**adaptive).fit(Xd, yd)
    in_memory = SGDMiniBatchRegressor(**adaptive).fit(X, y)
    assert in_memory.n_iter_ < 100  # max_iter is 1000
    assert abs(on_dask.n_iter_ - in_memory.n_iter_) <= 0.5 * in_memory.n_iter_
    assert on_dask.learning_rate_.eta_ <= on_dask.learning_rate_.min_eta


def test_sgd_on_dask_says_when_it_cannot_check_optimality():
    """A loss that does not add up over chunks cannot be judged over all
    rows: a warning says the stopping rule alone decided."""
    import dask

    from skla import SGDMiniBatchRegressor

    class Squared:  # no `separable`: the check cannot trust a chunked sum
        smoothness = 1.0

        def value(self, y, p, w):
            return float(w @ (0.5 * (y - p) ** 2).sum(axis=1))

        def gradient(self, y, p, w):
            return -w[:, None] * (y - p)

    X = np.random.default_rng(4).standard_normal((400, 3))
    y = X @ [1.0, 2.0, -1.0]
    chunks = da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    with dask.config.set(scheduler="sync"):
        with pytest.warns(UserWarning, match="cannot check that the fit"):
            SGDMiniBatchRegressor(loss=Squared(), random_state=0).fit(*chunks)
        with warnings.catch_warnings():  # a built-in loss: no such warning
            warnings.simplefilter("error", UserWarning)
            SGDMiniBatchRegressor(random_state=0).fit(*chunks)


def test_full_passes_over_chunks_equal_those_in_memory():
    """ChunkedRows (the optimality check's and GD's passes on dask) against
    the in-memory Rows: value and gradients to 1e-12, with weights, two
    targets and SGD's power-of-two scale of X."""
    from skla._algorithms.convergence import Rows
    from skla._backends.dask.loss import ChunkedRows, validated_blocks
    from skla.components.losses import RMSE, Huber

    rng = np.random.default_rng(10)
    X = rng.standard_normal((900, 4)) + 2.0
    Y = rng.standard_normal((900, 2))
    w = rng.uniform(0.0, 2.0, 900)
    coef, intercept = rng.standard_normal((4, 2)), np.array([0.5, -1.0])
    blocks = validated_blocks(
        da.from_array(X, chunks=(250, 3)),
        da.from_array(Y, chunks=300),
        da.from_array(w, chunks=200),
    )
    chunked = ChunkedRows(blocks, w.sum(), scale=0.25, divisor=900)  # SGD's Σwℓ/n
    in_memory = Rows(0.25 * X, Y, w)

    class RowNorm:  # separable by rows, coupling a row's two targets
        separable = True

        def value(self, y, p, w):
            return float(w @ (np.sqrt(1.0 + np.sum((y - p) ** 2, axis=1)) - 1.0))

        def gradient(self, y, p, w):
            r = y - p
            return -(w / np.sqrt(1.0 + np.sum(r**2, axis=1)))[:, None] * r

    for loss in (Huber(epsilon=0.3), RMSE(), RowNorm()):
        got = chunked.loss(loss, coef, intercept)
        want = in_memory.loss(loss, coef, intercept)
        for a, b in zip(got, want, strict=True):
            assert_allclose(a, b, rtol=1e-12)
    assert_allclose(chunked.mean_y(), in_memory.mean_y(), rtol=1e-12)
    head, weights = chunked.head(100)
    assert_allclose(head, 0.25 * X[:100])
    assert_allclose(weights, w[:100])


def test_review_cases_zero_weights_validation_and_refusals():
    """A chunk of zero weights is a no-op (dask and partial_fit alike); bad
    inputs name themselves; a refused fit leaves the estimator as it was."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((40, 3))
    y = X @ [1.0, -1.0, 2.0] + rng.standard_normal(40)
    w = rng.uniform(0.5, 2.0, 40)
    w[:10] = 0.0
    ref = PinvRegressor().fit(X, y, sample_weight=w)

    def chunked(a):
        return da.from_array(a, chunks=10)

    on_dask = PinvRegressor().fit(chunked(X), chunked(y), sample_weight=chunked(w))
    assert relative(on_dask.coef_, ref.coef_) < 1e-12
    streamed = PinvRegressor().partial_fit(X[10:], y[10:], w[10:])
    streamed.partial_fit(X[:10], y[:10], w[:10])  # all-zero weights: no-op
    assert relative(streamed.coef_, ref.coef_) < 1e-12
    scalar = PinvRegressor().fit(chunked(X), chunked(y), sample_weight=2.0)
    assert relative(scalar.coef_, PinvRegressor().fit(X, y).coef_) < 1e-12
    with pytest.raises(ValueError, match="sample_weight must have 1"):
        PinvRegressor().fit(chunked(X), chunked(y), sample_weight=np.ones((40, 2)))
    with pytest.raises(ValueError, match="2-D dask array for X"):
        PinvRegressor().fit(chunked(y), y)
    unknown = da.from_array(X, chunks=10)[da.from_array(y, chunks=10) > -100]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        PinvRegressor().fit(unknown, y)
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="y"):
        PinvRegressor().fit(chunked(X), chunked(y_nan))
    est = PinvRegressor().fit(X, y)
    with pytest.raises(ValueError, match="non-negative"):
        est.fit(chunked(X[:, :2]), chunked(y), sample_weight=chunked(-w))
    assert est.n_features_in_ == 3
    assert est.coef_.shape == (3,)


@pytest.mark.parametrize("name", ["PinvRegressor", "GDRegressor", "SGD"])
def test_all_zero_weights_are_refused_on_dask_as_in_memory(name):
    # PinvRegressor on dask returned coef_ = 0 silently; GDRegressor said it
    # in other words than the in-memory check.
    import skla

    make = {"SGD": skla.SGDMiniBatchRegressor}.get(name, getattr(skla, name, None))
    X = np.random.default_rng(0).standard_normal((40, 3))
    y, w = X @ [1.0, 2.0, 3.0], np.zeros(40)
    message = "Sample weights must contain at least one non-zero number"
    with pytest.raises(ValueError, match=message):
        make().fit(X, y, sample_weight=w)
    chunks = [da.from_array(a, chunks=10) for a in (X, y, w)]
    with pytest.raises(ValueError, match=message):
        make().fit(chunks[0], chunks[1], sample_weight=chunks[2])


def test_sgd_on_dask_with_a_chunk_of_zero_weights_fits_as_in_memory():
    # The worker's partial_fit refused the chunk ("at least one non-zero
    # number") when it came first, though the total weight is positive.
    from skla import SGDMiniBatchRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3))
    y = X @ [1.0, 2.0, 3.0] + 1.0 + 0.1 * rng.standard_normal(400)
    w = np.ones(400)
    w[:100] = 0.0
    params = {"random_state": 0, "max_iter": 20}
    memory = SGDMiniBatchRegressor(**params).fit(X, y, sample_weight=w)
    for seed in range(3):  # the zero chunk is visited first in some orders
        on_dask = SGDMiniBatchRegressor(**{**params, "random_state": seed}).fit(
            *(da.from_array(a, chunks=100) for a in (X, y)),
            sample_weight=da.from_array(w, chunks=100),
        )
        assert relative(on_dask.coef_, memory.coef_) < 1e-2
    # In memory too, a later chunk of zero weights is taken (its loss terms
    # are zero; the penalty and the tail average still count its updates,
    # as SGDRegressor's do for zero-weight samples), a first one refused
    # (nothing to start from), as PinvRegressor and GDRegressor do.
    streamed = SGDMiniBatchRegressor(random_state=0).partial_fit(X[100:], y[100:])
    t = streamed.t_
    streamed.partial_fit(X[:100], y[:100], sample_weight=w[:100])
    assert streamed.t_ > t
    assert np.isfinite(streamed.coef_).all()
    with pytest.raises(ValueError, match="non-zero number"):
        SGDMiniBatchRegressor().partial_fit(X[:100], y[:100], sample_weight=w[:100])


def test_lazy_outputs_declare_the_dtype_they_compute():
    """A float32 model on float64 blocks computes float64: the lazy array
    says so (it declared float32)."""
    from skla import TruncatedSVDCompressor

    X = np.random.default_rng(8).standard_normal((200, 4))
    X32 = da.from_array(X.astype(np.float32), chunks=50)
    X64 = da.from_array(X, chunks=50)
    y = X @ [1.0, 2.0, 3.0, 4.0]
    for lazy in (
        PinvRegressor().fit(X32, y.astype(np.float32)).predict(X64),
        TruncatedSVDCompressor(2).fit(X32).transform(X64),
    ):
        assert lazy.dtype == lazy.compute().dtype == np.float64


def _with_nan(X, row):
    X = X.copy()
    X[row, 1] = np.nan
    return da.from_array(X, chunks=(10, 3))


@pytest.mark.parametrize(
    "fit",
    [
        lambda X, y: PinvRegressor().fit(X, y),
        lambda X, y: skla.GDRegressor(loss="huber").fit(X, y),
        lambda X, y: skla.SGDMiniBatchRegressor(max_iter=2).fit(X, y),
        lambda X, y: skla.TruncatedSVDCompressor(2).fit(X),
        lambda X, y: skla.TruncatedSVDCompressor(
            2, algorithm="randomized", random_state=0
        ).fit(da.concatenate([X] * 70, axis=1)),
    ],
    ids=["pinv", "gd-huber", "sgd", "svd-exact", "svd-randomized"],
)
def test_errors_found_at_compute_time_name_x_and_the_chunk(client, fit):
    """A NaN in row 25 of X: the in-memory words, with X and the chunk named
    (it said "Input contains NaN." alone)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = X @ [1.0, 2.0, 3.0]
    match = r"(?s)X contains NaN.*\(in X's row chunk 2, rows 20-29\)"
    with pytest.raises(ValueError, match=match):
        fit(_with_nan(X, 25), da.from_array(y, chunks=10))


def test_wrong_width_is_refused_before_any_computation(client):
    """predict, transform and inverse_transform of a dask array whose width
    is known to be wrong fail at once (they returned a lazy array that
    failed at compute)."""
    X = np.random.default_rng(0).standard_normal((40, 4))
    Xd = da.from_array(X, chunks=10)
    est = PinvRegressor().fit(Xd, X @ [1.0, 2.0, 3.0, 4.0])
    svd = skla.TruncatedSVDCompressor(2).fit(Xd)
    narrow = Xd[:, :3]
    with pytest.raises(ValueError, match="X has 3 features, but PinvRegressor"):
        est.predict(narrow)
    with pytest.raises(ValueError, match="X has 3 features, but TruncatedSVD"):
        svd.transform(narrow)
    with pytest.raises(ValueError, match="inverse_transform expects n_components_ = 2"):
        svd.inverse_transform(narrow)
    assert_allclose(
        svd.inverse_transform(svd.transform(Xd)).compute(),
        svd.inverse_transform(svd.transform(X)),
        rtol=1e-12,
    )


def test_sgd_sends_its_chunks_to_the_workers_once(client):
    """The epochs visit persisted chunks: one key each, held by the
    workers, so no input graph (for da.from_array, the data) is sent again
    per chunk and epoch."""
    from skla._backends.dask.rows import row_blocks
    from skla._backends.dask.sgd import _persisted

    X = np.random.default_rng(0).standard_normal((80, 3))
    blocks = _persisted(row_blocks(da.from_array(X, chunks=20), None, None))
    for x, _, _, where in blocks:
        assert len(x.__dask_graph__()) == 1
        assert len(distributed.futures_of(x)) == 1  # held by a worker
        assert where.startswith("X's row chunk")


@pytest.mark.parametrize("order", ["dask-numpy", "numpy-dask", "dask-dask"])
def test_partial_fit_takes_dask_chunks_and_numpy_chunks_alike(client, order):
    """A stream may mix dask chunks (their statistics reduced on the
    cluster) and numpy chunks in any order: both give numpy statistics, so
    the fit is that of all rows, as fit's; a later dask chunk whose weights
    are all zero changes nothing, as a numpy one."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((900, 4))
    y = X @ [1.0, -1.0, 2.0, 0.0] + 1.0 + rng.standard_normal(900)
    kinds = order.split("-")

    def chunk(kind, *arrays):
        if kind == "numpy":
            return arrays
        return tuple(da.from_array(a, chunks=100) for a in arrays)

    parts = [slice(0, 500), slice(500, 900)]
    streamed, lasso = PinvRegressor(), skla.GDRegressor(penalty="l1", alpha=0.1)
    svd = skla.TruncatedSVDCompressor(2)
    for kind, rows in zip(kinds, parts, strict=True):
        streamed.partial_fit(*chunk(kind, X[rows], y[rows]))
        lasso.partial_fit(*chunk(kind, X[rows], y[rows]))
        svd.partial_fit(*chunk(kind, X[rows]))
    assert streamed.n_features_in_ == lasso.n_features_in_ == svd.n_features_in_ == 4
    assert relative(streamed.coef_, PinvRegressor().fit(X, y).coef_) < 1e-12
    full_lasso = skla.GDRegressor(penalty="l1", alpha=0.1).fit(X, y)
    assert_allclose(lasso.coef_, full_lasso.coef_, rtol=1e-6, atol=1e-9)
    ref = skla.TruncatedSVDCompressor(2, algorithm="full").fit(X)
    assert_allclose(svd.singular_values_, ref.singular_values_, rtol=1e-12)
    nothing = chunk(kinds[-1], X[:50], y[:50], np.zeros(50))
    streamed.partial_fit(*nothing)
    assert relative(streamed.coef_, PinvRegressor().fit(X, y).coef_) < 1e-12


def test_dask_outputs_stay_lazy_for_rows_of_unknown_number(client):
    """predict and transform need only X's columns: rows of unknown number
    (after boolean indexing) give a lazy result, and a DataFrame is not
    computed to count its rows."""
    X = np.random.default_rng(3).standard_normal((60, 3))
    Xd = da.from_array(X, chunks=20)
    est = PinvRegressor().fit(Xd, X @ [1.0, 2.0, 3.0])
    svd = skla.TruncatedSVDCompressor(2).fit(Xd)
    kept = Xd[Xd[:, 0] > 0]
    predictions, Z = est.predict(kept), svd.transform(kept)
    assert np.isnan(predictions.shape[0])
    assert np.isnan(Z.shape[0])
    rows = X[:, 0] > 0
    assert_allclose(predictions.compute(), est.predict(X[rows]), rtol=1e-12)
    assert_allclose(Z.compute(), svd.transform(X[rows]), rtol=1e-12)


def test_a_failed_sgd_fit_on_dask_leaves_the_model_as_it_was(client):
    """The epochs run on a copy: a NaN in a chunk raises, and the fitted
    model keeps its coefficients and its DataFrame's column names."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(4)
    X = rng.standard_normal((80, 3))
    y = X @ [1.0, 2.0, 3.0]
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = skla.SGDMiniBatchRegressor(max_iter=3, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="NaN"):
        model.fit(_with_nan(X, 30), da.from_array(y, chunks=10))
    assert_allclose(model.coef_, coef)
    assert list(model.feature_names_in_) == ["a", "b", "c"]


def test_sgd_on_dask_names_negative_weights_first(client):
    """Weights whose negatives cancel their sum were told "at least one
    non-zero number"; they are now refused as negative, as in memory."""
    X = np.random.default_rng(5).standard_normal((40, 2))
    w = np.where(np.arange(40) < 20, 1.0, -1.0)
    model = skla.SGDMiniBatchRegressor(max_iter=2)
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        model.fit(X, X @ [1.0, 2.0], sample_weight=w)
    chunks = [da.from_array(a, chunks=10) for a in (X, X @ [1.0, 2.0], w)]
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        model.fit(chunks[0], chunks[1], sample_weight=chunks[2])
