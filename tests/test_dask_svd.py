"""TruncatedSVDCompressor on wide dask arrays: the randomized range finder
whose products run on the cluster (``skla._backends.dask.svd``), and the route choice.

The cluster is the ``client`` fixture of ``conftest.py``: a LocalCluster on
127.0.0.1 only, two worker processes with 1 GiB each.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils.extmath import svd_flip

from skla import TruncatedSVDCompressor, register, unregister
from skla._algorithms.randomized_svd import RangeFinder
from skla._algorithms.svd import energy_rank
from skla._backends.dask.svd import range_finder
from skla.components.svd import AutoSVD, FullSVD, RandomizedSVD

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
pytest.importorskip("distributed")

FIGURES = (
    "explained_variance_",
    "explained_variance_ratio_",
    "explained_energy_ratio_",
    "reconstruction_error_",
    "compression_ratio_",
)


def decaying(m, d, decay, seed):
    """Gaussian columns scaled by ``decay**j``: a spectrum that decays."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, d)) * decay ** np.arange(d)


@pytest.fixture(scope="module")
def wide(client):
    """800 × 1600 (beyond "auto"'s exact limit of 1024 features), its numpy
    SVD (right vectors signed as the estimator signs them), and the dask
    array chunked by rows and columns, persisted on the workers."""
    X = decaying(800, 1600, 0.8, seed=0)
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    _, Vt = svd_flip(None, Vt[:40], u_based_decision=False)
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1GB"}):
        Xd = client.persist(da.from_array(X, chunks=(200, 800)))  # 10 MB
    return X, s, Vt, Xd


@pytest.mark.parametrize(
    ("algorithm", "n_components", "solver"),
    [("randomized", 10, RandomizedSVD), ("auto", 0.99, AutoSVD)],
)
def test_wide_x_on_the_cluster_equals_numpy(wide, algorithm, n_components, solver):
    """numpy's singular values to 1e-6 relative and right vectors (signed by
    svd_flip); for an energy fraction, numpy's rank; every figure of the
    in-memory fit; the transform lazy, by X's row chunks, and the numpy one."""
    X, s, Vt, Xd = wide
    params = {"algorithm": algorithm, "random_state": 0}
    est = TruncatedSVDCompressor(n_components, **params).fit(Xd)
    ref = TruncatedSVDCompressor(n_components, **params).fit(X)
    assert type(est.algorithm_) is solver
    k = est.n_components_
    if n_components == 0.99:
        assert k == ref.n_components_ == energy_rank(s, 0.99 * np.sum(s**2))[0]
        assert est.explained_energy_ratio_.sum() >= 0.99
    assert k == ref.n_components_ >= 10
    assert_allclose(est.singular_values_, s[:k], rtol=1e-6)
    assert_allclose(est.components_, Vt[:k], atol=1e-6)
    for name in FIGURES:
        assert_allclose(getattr(est, name), getattr(ref, name), rtol=1e-6)
    assert isinstance(est.components_, np.ndarray)
    Z = est.transform(Xd)
    assert isinstance(Z, da.Array)
    assert Z.chunks == ((200,) * 4, (k,))
    assert_allclose(Z.compute(), X @ Vt[:k].T, atol=1e-6 * s[0])


def test_energy_fraction_grows_the_basis_as_in_memory(client):
    """A flat spectrum whose energy rank needs a second, larger block of the
    basis: the in-memory fit's rank and singular values (same seed, same
    basis), and at least the fraction of the energy."""
    F = decaying(400, 300, 0.98, seed=1)
    params = {"algorithm": "randomized", "n_iter": 1, "random_state": 0}
    grown = TruncatedSVDCompressor(0.7, **params).fit(da.from_array(F, chunks=100))
    ref = TruncatedSVDCompressor(0.7, **params).fit(F)
    assert grown.n_components_ == ref.n_components_ > 32 - 10  # a second block
    assert_allclose(grown.singular_values_, ref.singular_values_, rtol=1e-10)
    assert grown.explained_energy_ratio_.sum() >= 0.7


def test_the_client_never_gathers_x(client, monkeypatch):
    """X generated lazily on the workers (20 MB): what the client receives
    over the whole fit is d × l-sized, under 2 % of X, in one round trip
    (the fit of a rank is one graph)."""
    from dask.sizeof import sizeof

    received = []
    gather = client.gather

    def counting_gather(*args, **kwargs):
        result = gather(*args, **kwargs)
        received.append(sizeof(result))
        return result

    monkeypatch.setattr(client, "gather", counting_gather)
    m, d, width = 1000, 2500, 4
    scales = 0.8 ** np.arange(d)
    X = da.random.default_rng(2).standard_normal((m, d), chunks=(250, d)) * scales
    params = {"algorithm": "randomized", "n_oversamples": 2, "n_iter": 1}
    est = TruncatedSVDCompressor(2, **params, random_state=0).fit(X)
    assert est.components_.shape == (2, d)
    assert 0 < sum(received) < 0.02 * X.nbytes
    assert max(received) < d * width * 8 + 1000  # one d × l matrix at most
    assert len(received) == 1


def test_a_residual_below_rounding_of_the_energy_is_summed(client):
    """Rank 3 plus noise 1e-7: ‖X‖² − ‖XV‖² is rounding noise, so the
    reconstruction error is summed from the residual in one more pass; it
    is that of the fitted components, to 1e-8 relative."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 3)) @ rng.standard_normal((3, 400))
    X += 1e-7 * rng.standard_normal(X.shape)
    params = {"algorithm": "randomized", "random_state": 0}
    est = TruncatedSVDCompressor(3, **params).fit(da.from_array(X, chunks=100))
    V = est.components_
    error = np.linalg.norm(X - X @ V.T @ V) / np.linalg.norm(X)
    assert error < 1e-6
    assert est.reconstruction_error_ == pytest.approx(error, rel=1e-8)


def test_random_state_fixes_the_basis_as_in_memory(client):
    """A basis far from converged (a flat spectrum): the same seed gives the
    same fit, bit for bit, and the in-memory fit's singular values and
    components -- also after n_iter="auto" power iterations, as many as in
    memory; another seed, others."""
    F = decaying(400, 300, 0.995, seed=3)
    Fd = da.from_array(F, chunks=(100, 150))
    exact = np.linalg.svd(F, compute_uv=False)[:5]
    fits = {}
    for n_iter, seed in ((0, 0), (0, 0), (0, 1), ("auto", 0)):
        params = {"algorithm": "randomized", "n_iter": n_iter, "random_state": seed}
        on_dask = TruncatedSVDCompressor(5, **params).fit(Fd)
        if (n_iter, seed) in fits:
            assert_array_equal(on_dask.components_, fits[n_iter, seed].components_)
            assert_array_equal(
                on_dask.singular_values_, fits[n_iter, seed].singular_values_
            )
        fits[n_iter, seed] = on_dask
        ref = TruncatedSVDCompressor(5, **params).fit(F)
        assert_allclose(on_dask.singular_values_, ref.singular_values_, rtol=1e-10)
        assert_allclose(on_dask.components_, ref.components_, atol=1e-8)
        assert np.max(np.abs(on_dask.singular_values_ / exact - 1)) > 1e-4
    seeds = fits[0, 0].singular_values_, fits[0, 1].singular_values_
    assert np.max(np.abs(seeds[0] / seeds[1] - 1)) > 1e-6


def test_float32_dask_input_gives_float32(wide, monkeypatch):
    """float32 chunks: the products in float32 (B = QᵀX reaches the small
    SVD in float32: seen by a spy where dask's synchronous scheduler runs
    the tasks in this process), float32 components and singular values, a
    float32 transform; float64's values to float32 accuracy."""
    from skla._backends.dask import products as _dask_svd

    X, s, Vt, Xd = wide
    params = {"algorithm": "randomized", "n_iter": 2, "random_state": 0}
    est = TruncatedSVDCompressor(5, **params).fit(Xd.astype(np.float32))
    assert est.components_.dtype == est.singular_values_.dtype == np.float32
    assert_allclose(est.singular_values_, s[:5], rtol=1e-4)
    assert_allclose(est.components_, Vt[:5], atol=1e-3)
    Z = est.transform(Xd.astype(np.float32))
    assert Z.dtype == Z.compute().dtype == np.float32

    dtypes, small_svd = [], _dask_svd._small_svd

    def spying_small_svd(B):
        dtypes.append(B.dtype)
        return small_svd(B)

    monkeypatch.setattr(_dask_svd, "_small_svd", spying_small_svd)
    X32 = da.from_array(X.astype(np.float32), chunks=(200, 800))
    with dask.config.set(scheduler="synchronous"):
        TruncatedSVDCompressor(5, **params).fit(X32)
    assert dtypes == [np.float32]


def test_route_choice_and_refusals(client):
    """Exact solvers, and "auto" up to 1024 features, take X's R factor;
    "randomized" and wide "auto" take the range finder configured as in
    memory; another solver is refused by name before any work."""
    assert range_finder(FullSVD(), 10**5, "full") is None
    assert range_finder(AutoSVD(), 1024, "auto") is None
    assert range_finder(RandomizedSVD(), 200, "randomized") is None
    assert range_finder(AutoSVD(n_iter=3), 1025, "auto") == RangeFinder(
        10, 3, oversample_rank=True
    )
    assert range_finder(RandomizedSVD(5, 2), 201, "randomized") == RangeFinder(5, 2)
    X = decaying(1500, 300, 0.9, seed=4)
    Xd = da.from_array(X, chunks=(400, 300))
    exact = TruncatedSVDCompressor(4, random_state=0).fit(Xd)  # auto, 300 features
    ref = TruncatedSVDCompressor(4, algorithm="full").fit(X)
    assert type(exact.algorithm_) is AutoSVD
    assert_allclose(exact.singular_values_, ref.singular_values_, rtol=1e-12)
    assert_allclose(exact.components_, ref.components_, atol=1e-10)

    class NumpySVD:
        def svd(self, X, n_components, *, random_state):
            raise AssertionError("never called on dask")

    with pytest.raises(ValueError, match=r"algorithm=.*NumpySVD.* dask array"):
        TruncatedSVDCompressor(2, algorithm=NumpySVD()).fit(Xd)
    register("svd_solver", "numpy-test", NumpySVD)
    try:
        with pytest.raises(ValueError, match="algorithm='numpy-test'"):
            TruncatedSVDCompressor(2, algorithm="numpy-test").fit(Xd)
    finally:
        unregister("svd_solver", "numpy-test")
    with pytest.raises(ValueError, match="n_components=301 must be at most"):
        TruncatedSVDCompressor(301, algorithm="randomized").fit(Xd)
    with pytest.raises(ValueError, match="overflows"):
        TruncatedSVDCompressor(2, algorithm="randomized").fit(Xd * 1e200)
