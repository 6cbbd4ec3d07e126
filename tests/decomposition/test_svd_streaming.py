"""TruncatedSVDCompressor.partial_fit: after every chunk, the exact SVD so far."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from skla import TruncatedSVDCompressor

FIGURES = [
    "singular_values_",
    "explained_variance_",
    "explained_variance_ratio_",
    "explained_energy_ratio_",
    "reconstruction_error_",
    "compression_ratio_",
]


def data(seed=0, n=3000, d=30):
    rng = np.random.default_rng(seed)
    spectrum = np.logspace(0, -3, d)
    return rng.standard_normal((n, d)) * spectrum + 2.0 * rng.standard_normal(d)


def test_every_call_equals_the_exact_svd_of_the_rows_so_far():
    """Singular values, components and every figure equal
    fit(algorithm="full") on the rows seen, to 1e-8 (measured ~1e-14)."""
    X = data()
    streamed = TruncatedSVDCompressor(5)
    for chunk in np.array_split(np.arange(len(X)), 6):
        streamed.partial_fit(X[chunk])
        n = chunk[-1] + 1
        full = TruncatedSVDCompressor(5, algorithm="full").fit(X[:n])
        for name in FIGURES:
            assert_allclose(getattr(streamed, name), getattr(full, name), rtol=1e-8)
        # The same subspace, and the same signs (svd_flip's convention).
        assert_allclose(streamed.components_, full.components_, atol=1e-8)
        reference = np.linalg.svd(X[:n], compute_uv=False)[:5]
        assert_allclose(streamed.singular_values_, reference, rtol=1e-10)
    assert_allclose(streamed.transform(X[:7]), full.transform(X[:7]), atol=1e-8)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_chunks_and_an_energy_fraction(fmt):
    X = data(seed=1, n=1200, d=12)
    full = TruncatedSVDCompressor(0.999, algorithm="full").fit(X)
    streamed = TruncatedSVDCompressor(0.999)
    for chunk in np.array_split(np.arange(1200), 4):
        streamed.partial_fit(sp.csr_matrix(X[chunk]).asformat(fmt))
    assert streamed.n_components_ == full.n_components_ > 1
    assert_allclose(streamed.singular_values_, full.singular_values_, rtol=1e-10)


def test_float32_chunks():
    X = data(seed=2, n=1000, d=10)
    streamed = TruncatedSVDCompressor(3)
    for chunk in np.array_split(np.arange(1000), 3):
        streamed.partial_fit(X[chunk].astype(np.float32))
    assert streamed.components_.dtype == np.float32
    assert streamed.singular_values_.dtype == np.float32
    reference = np.linalg.svd(X.astype(np.float32).astype(np.float64), compute_uv=False)
    assert_allclose(streamed.singular_values_, reference[:3], rtol=1e-6)


def test_state_is_d_squared_and_refusals():
    X = data(seed=3, n=20_000, d=8)
    small = TruncatedSVDCompressor(2).partial_fit(X[:500])
    large = TruncatedSVDCompressor(2)
    for chunk in np.array_split(np.arange(20_000), 10):
        large.partial_fit(X[chunk])
    assert len(pickle.dumps(large)) <= len(pickle.dumps(small)) + 8
    with pytest.raises(ValueError, match="X has 9 features"):
        large.partial_fit(np.ones((3, 9)))
    with pytest.raises(ValueError, match="n_components=5 must be at most"):
        TruncatedSVDCompressor(5).partial_fit(X[:3])
