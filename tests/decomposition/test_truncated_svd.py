"""TruncatedSVDCompressor against numpy's full SVD, Eckart–Young and TruncatedSVD."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image
from sklearn.datasets import load_sample_image
from sklearn.decomposition import TruncatedSVD
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import skla
from skla import TruncatedSVDCompressor
from skla.components import svd as svd_module

ALGORITHMS = ["auto", "full", "randomized", "arpack", "propack", "lanczos"]


@pytest.fixture(scope="module", params=["china.jpg", "flower.jpg"])
def photo(request):
    """A bundled photo in grayscale, 427×640 float32, and its exact spectrum."""
    gray = Image.fromarray(load_sample_image(request.param)).convert("L")
    X = np.asarray(gray, dtype=np.float32)
    return X, np.linalg.svd(X.astype(np.float64), compute_uv=False)


def decaying(m=120, n=80, seed=0, dtype=np.float64):
    """A matrix with singular values 0.8**i (a gap between every pair)."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((m, n)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    s = 10 * 0.8 ** np.arange(n)
    return ((U * s) @ V.T).astype(dtype), s


def optimal_error(s, k):
    """Eckart–Young: the smallest relative error of a rank-k approximation."""
    return np.sqrt(np.sum(s[k:] ** 2) / np.sum(s**2))


@pytest.mark.parametrize("k", [1, 2, 4, 8, 16, 32, 64])
def test_default_is_near_optimal_on_the_bundled_photo(photo, k):
    X, s = photo
    svd = TruncatedSVDCompressor(k, random_state=0).fit(X)
    rebuilt = svd.inverse_transform(svd.transform(X)).astype(np.float64)
    error = np.linalg.norm(X - rebuilt) / np.linalg.norm(X)
    assert error <= 1.001 * optimal_error(s, k)  # issue 16's bar
    assert svd.reconstruction_error_ == pytest.approx(error, rel=1e-4)
    assert_allclose(svd.singular_values_, s[:k], rtol=1e-3)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_matches_lapack(algorithm):
    X, s = decaying()
    svd = TruncatedSVDCompressor(5, algorithm=algorithm, random_state=0).fit(X)
    assert_allclose(svd.singular_values_, s[:5], rtol=1e-8)
    # Same subspace and, after svd_flip, the same signs as TruncatedSVD.
    ref = TruncatedSVD(5, algorithm="arpack", random_state=0).fit(X)
    assert_allclose(svd.components_, ref.components_, atol=1e-7)
    assert_allclose(svd.transform(X), ref.transform(X), atol=1e-6)
    assert_allclose(svd.explained_variance_, ref.explained_variance_, rtol=1e-7)
    assert_allclose(
        svd.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-7
    )


def test_figures_of_merit():
    X, s = decaying()
    svd = TruncatedSVDCompressor(6, random_state=0).fit(X)
    m, n = X.shape
    assert svd.compression_ratio_ == pytest.approx(m * n / (6 * (m + n + 1)))
    assert_allclose(svd.explained_energy_ratio_, s[:6] ** 2 / np.sum(s**2), rtol=1e-8)
    assert np.all(np.diff(svd.explained_energy_ratio_) < 0)
    assert svd.reconstruction_error_ == pytest.approx(optimal_error(s, 6), rel=1e-6)
    assert svd.explained_energy_ratio_.sum() == pytest.approx(
        1 - svd.reconstruction_error_**2
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_energy_fraction_picks_the_smallest_rank(algorithm):
    X, s = decaying(200, 150)
    energy = np.cumsum(s**2) / np.sum(s**2)
    for fraction in [0.5, 0.9, 0.999]:
        svd = TruncatedSVDCompressor(fraction, algorithm=algorithm, random_state=0)
        svd.fit(X)
        expected = int(np.searchsorted(energy, fraction) + 1)
        assert svd.n_components_ == expected
        assert svd.explained_energy_ratio_.sum() >= fraction
        assert svd.components_.shape == (expected, 150)


def test_energy_fraction_without_a_full_svd(photo, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a full SVD was computed")

    monkeypatch.setattr(svd_module.FullSVD, "svd", refuse)
    monkeypatch.setattr(svd_module.FullSVD, "svd_energy", refuse)
    X, s = photo
    svd = TruncatedSVDCompressor(0.95, random_state=0).fit(X)
    energy = np.cumsum(s**2) / np.sum(s**2)
    assert svd.n_components_ == np.searchsorted(energy, 0.95) + 1
    assert 1 - svd.reconstruction_error_**2 >= 0.95


@pytest.mark.parametrize("algorithm", ["auto", "randomized", "arpack", "full"])
def test_sparse_equals_dense(algorithm):
    rng = np.random.default_rng(0)
    X = sp.random_array((300, 250), density=0.05, format="csr", rng=rng)
    X = X + sp.diags_array(np.linspace(5, 1, 250), shape=(300, 250))
    dense = TruncatedSVDCompressor(4, algorithm=algorithm, random_state=0)
    sparse = TruncatedSVDCompressor(4, algorithm=algorithm, random_state=0)
    Z_dense = dense.fit_transform(X.toarray())
    for Xs in (X.tocsr(), X.tocsc()):
        assert_allclose(sparse.fit_transform(Xs), Z_dense, rtol=1e-6, atol=1e-9)
        assert_allclose(sparse.singular_values_, dense.singular_values_, rtol=1e-8)


def test_float32_is_kept():
    X, s = decaying(dtype=np.float32)
    svd = TruncatedSVDCompressor(3, random_state=0)
    Z = svd.fit_transform(X)
    assert Z.dtype == svd.components_.dtype == svd.singular_values_.dtype
    assert Z.dtype == np.float32
    assert svd.transform(X).dtype == np.float32
    assert svd.inverse_transform(Z).dtype == np.float32
    assert_allclose(svd.singular_values_, s[:3], rtol=1e-5)


def test_deterministic_and_input_untouched():
    X, _ = decaying()
    copy = X.copy()
    a = TruncatedSVDCompressor(4, algorithm="randomized", random_state=3).fit(X)
    b = TruncatedSVDCompressor(4, algorithm="randomized", random_state=3).fit(X)
    assert_array_equal(a.components_, b.components_)
    assert_array_equal(X, copy)


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    X, _ = decaying()
    svd = TruncatedSVDCompressor(3).set_output(transform="pandas")
    Z = svd.fit_transform(pd.DataFrame(X))
    assert list(Z.columns) == [f"truncatedsvdcompressor{i}" for i in range(3)]


def test_errors_name_the_parameter():
    X, _ = decaying(20, 10)
    with pytest.raises(ValueError, match=r"n_components=11.*n_features=10"):
        TruncatedSVDCompressor(11).fit(X)
    with pytest.raises(ValueError, match="algorithm='arpack'"):
        TruncatedSVDCompressor(10, algorithm="arpack").fit(X)
    svd = TruncatedSVDCompressor(3).fit(X)
    with pytest.raises(ValueError, match="n_components_ = 3"):
        svd.inverse_transform(np.ones((2, 4)))


def test_custom_solver_by_object_and_by_name():
    class NumpySVD:
        def svd(self, X, n_components, *, random_state):
            U, s, Vt = np.linalg.svd(X, full_matrices=False)
            return U[:, :n_components], s[:n_components], Vt[:n_components]

    X, s = decaying()
    svd = TruncatedSVDCompressor(3, algorithm=NumpySVD()).fit(X)
    assert_allclose(svd.singular_values_, s[:3])
    # No svd_energy method: the estimator doubles k until the energy is there.
    assert TruncatedSVDCompressor(0.9, algorithm=NumpySVD()).fit(X).n_components_ > 0
    skla.register("svd_solver", "numpy", NumpySVD)
    try:
        fitted = TruncatedSVDCompressor(3, algorithm="numpy").fit(X)
        assert_allclose(fitted.singular_values_, s[:3])
    finally:
        skla.unregister("svd_solver", "numpy")


def test_grid_search_over_rank_and_algorithm():
    X, _ = decaying(200, 60)
    y = X[:, 0] + 0.1 * X[:, 1]
    search = GridSearchCV(
        make_pipeline(TruncatedSVDCompressor(random_state=0), Ridge(alpha=1e-6)),
        {
            "truncatedsvdcompressor__n_components": [2, 20],
            "truncatedsvdcompressor__algorithm": ["auto", "arpack"],
        },
        cv=3,
    ).fit(X, y)
    assert search.best_params_["truncatedsvdcompressor__n_components"] == 20


def test_total_variance_by_blocks_equals_numpy():
    from skla.decomposition._truncated_svd import _total_variance

    rng = np.random.default_rng(0)
    X = (100 + 30 * rng.standard_normal((1000, 6))).astype(np.float32)
    expected = np.var(X.astype(np.float64), axis=0).sum()
    for block in [7, 1000, 1 << 14]:
        assert _total_variance(X, block=block) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "algorithm", ["auto", "full", "randomized", "arpack", "propack", "lanczos"]
)
@pytest.mark.parametrize("n", [1000, 400_000])
def test_float32_energy_met_exactly_takes_no_extra_component(algorithm, n):
    # Two orthogonal columns of equal norm: the first component holds
    # exactly half the energy.  float32 singular values are rounded to
    # float32, so a float64 tolerance took 2 components on some
    # algorithms at some sizes (full, arpack and lanczos at 400000 rows).
    v = np.random.default_rng(0).random(n, dtype=np.float32) + 1
    X = np.zeros((2 * n, 3), dtype=np.float32)
    X[:n, 0], X[n:, 1] = v, v
    svd = TruncatedSVDCompressor(0.5, algorithm=algorithm, random_state=0).fit(X)
    assert svd.n_components_ == 1
    assert svd.explained_energy_ratio_[0] == pytest.approx(0.5, rel=1e-6)


def _sparse_pattern():
    return sp.random(60, 55, density=0.2, format="csr", random_state=42)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("kind", ["csr", "dense", "float32"])
def test_fit_transform_equals_fit_then_transform(algorithm, kind):
    # The randomized route's U_k Σ_k was up to 9% away from X V_k here.
    X = _sparse_pattern()
    X = {"csr": X, "dense": X.toarray(), "float32": X.toarray().astype("f4")}[kind]
    params = {"algorithm": algorithm, "n_iter": 7, "random_state": 42}
    Z = TruncatedSVDCompressor(5, **params).fit_transform(X)
    svd = TruncatedSVDCompressor(5, **params).fit(X)
    assert_array_equal(Z, svd.transform(X))
    # The figures are those of these coordinates, as TruncatedSVD's.
    dense = X.toarray() if sp.issparse(X) else X.astype(np.float64)
    rtol = 1e-5 if kind == "float32" else 1e-10
    assert_allclose(svd.explained_variance_, np.var(Z, axis=0), rtol=rtol)
    V = svd.components_.astype(np.float64)
    error = np.linalg.norm(dense - dense @ V.T @ V) / np.linalg.norm(dense)
    assert svd.reconstruction_error_ == pytest.approx(error, rel=rtol)


def test_randomized_figures_agree_with_truncated_svd():
    X = _sparse_pattern()
    ours = TruncatedSVDCompressor(5, algorithm="randomized", n_iter=7, random_state=0)
    theirs = TruncatedSVD(5, algorithm="randomized", n_iter=7, random_state=0)
    Z, Z_ref = ours.fit_transform(X), theirs.fit_transform(X)
    # Different random bases: the same subspace to a few digits, and each
    # one's figures are those of its own coordinates.
    assert_allclose(np.abs(Z), np.abs(Z_ref), atol=0.05 * np.abs(Z_ref).max())
    assert_allclose(ours.explained_variance_, np.var(Z, axis=0), rtol=1e-10)
    assert_allclose(theirs.explained_variance_, np.var(Z_ref, axis=0), rtol=1e-10)


@pytest.mark.parametrize("n_components", [1, 50, 99, 0.9])
@pytest.mark.parametrize(
    "algorithm", ["auto", "randomized", "arpack", "propack", "lanczos"]
)
def test_fit_of_tall_X_holds_no_n_by_k_array(algorithm, n_components, traced_peak):
    # fit returns no coordinates: it need not form the left vectors or
    # X V_k (200000×100 at the fraction 0.9, k = 88: 0.90× X before).
    X = np.random.default_rng(0).standard_normal((40_000, 100))
    if algorithm in ("arpack", "propack") and n_components == 0.9:
        n_components = 88  # they take a rank
    svd = TruncatedSVDCompressor(n_components, algorithm=algorithm, random_state=0)
    peak = traced_peak(lambda: svd.fit(X))
    assert peak <= 0.5 * X.nbytes, (peak / X.nbytes, svd.n_components_)


def test_solvers_return_no_left_vectors_that_are_not_x_v_over_sigma():
    # fit reads its figures from U Σ when a solver returns U: that must be
    # X V to rounding.  A randomized basis, or svds stopped at a loose tol,
    # gives other vectors, so with compute_u=False those return none.
    from skla.components.svd import RandomizedSVD
    from skla.components.svds import ArpackSVD

    X = np.random.default_rng(0).standard_normal((300, 250))
    loose = [RandomizedSVD(), ArpackSVD(tol=1e-2)]
    for solver in loose:
        assert solver.svd(X, 5, random_state=0, compute_u=False).U is None
        assert solver.svd(X, 5, random_state=0).U is not None
    U, s, Vt = ArpackSVD().svd(X, 5, random_state=0, compute_u=False)
    assert_allclose(U * s, X @ Vt.T, atol=1e-10 * s[0])
