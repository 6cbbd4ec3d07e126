"""The fused-pass block Lanczos (skla._algorithms.lanczos_gram) and its
safeguards, against LAPACK's exact SVD."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from spectra import error_ratio, with_spectrum

import skla._algorithms.lanczos as lanczos
from skla._algorithms.lanczos import block_lanczos_svd, krylov_svd
from skla._algorithms.lanczos_gram import (
    _bounded,
    gram_fits,
    gram_lanczos_svd,
    gram_products,
    gram_resolves,
)
from skla._algorithms.svd_figures import square_sums
from skla.components.svd import AUTO_TOL

TAIL = 0.95 ** np.arange(395)
SPECTRA = {
    # A dominant first value, as the mean of a photograph gives.
    "photo-like": np.r_[60.0, 10 * TAIL[:399]],
    # Repeated values exactly at and around the ranks tested: 5 four times
    # (ranks 2..4 cut through it), 4 twice.
    "repeated": np.r_[[5.0, 5.0, 5.0, 5.0, 4.0, 4.0], 3 * TAIL[:394]],
    # A cluster closer than the tolerance, then a gap.
    "clustered": np.r_[[5.0, 5.0 - 1e-7, 5.0 - 2e-7, 4.0, 4.0 - 1e-6], 3 * TAIL],
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(SPECTRA))
@pytest.mark.parametrize("k", range(1, 9))
def test_the_default_route_is_optimal_to_the_tolerance(name, k, dtype):
    s_exact = SPECTRA[name]
    X = with_spectrum(s_exact).astype(dtype)
    s_lapack = np.linalg.svd(X.astype(np.float64), compute_uv=False)
    _U, s, Vt = krylov_svd(
        X,
        k,
        tol=AUTO_TOL,
        squared_norm=float(np.sum(s_lapack**2)),
        rng=np.random.default_rng(0),
    )
    assert error_ratio(X, Vt, s_lapack, k) <= 1.001
    assert_allclose(s, s_lapack[:k], rtol=1e-4)
    assert_allclose(Vt @ Vt.T, np.eye(k), atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("block", [1, 2])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_converged_to_machine_precision_it_is_lapack(block, k):
    X = with_spectrum(SPECTRA["photo-like"])
    U, s, Vt, _ = gram_lanczos_svd(
        X,
        k,
        block=block,
        tol=0.0,
        squared_norm=float(np.sum(X**2)),
        rng=np.random.default_rng(0),
    )
    _, s_ref, Vt_ref = np.linalg.svd(X, full_matrices=False)
    assert_allclose(s, s_ref[:k], rtol=1e-10)
    assert_allclose(np.abs(np.sum(Vt * Vt_ref[:k], axis=1)), 1.0, atol=1e-8)
    assert_allclose(X @ Vt.T, U * s, atol=1e-10)
    assert_allclose(U.T @ U, np.eye(k), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_a_rank_deficient_matrix(k, dtype):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((500, 3)) @ rng.standard_normal((3, 400))).astype(dtype)
    U, s, Vt = krylov_svd(
        X, k, tol=AUTO_TOL, squared_norm=float(np.sum(X**2.0)), rng=rng
    )
    s_ref = np.linalg.svd(X.astype(np.float64), compute_uv=False)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    assert_allclose(s[:3], s_ref[: min(k, 3)], rtol=rtol)
    assert_allclose(s[3:], 0.0, atol=rtol * s_ref[0])
    assert_allclose(Vt @ Vt.T, np.eye(k), atol=10 * rtol)
    if k >= 3:  # the whole of X
        assert_allclose((U * s) @ Vt, X, atol=10 * rtol * s_ref[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("block_elements", [1, 50, 1 << 19])
def test_gram_products(dtype, block_elements):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 40)).astype(dtype)
    V = rng.standard_normal((40, 2)).astype(dtype)  # C-ordered: strided columns
    W, Z = gram_products(X, V, block_elements=block_elements)
    assert W.dtype == Z.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    W_ref, Z_ref = X @ V, X.T @ (X @ V)
    assert_allclose(W, W_ref, rtol=rtol, atol=rtol * np.abs(W_ref).max())
    assert_allclose(Z, Z_ref, rtol=rtol, atol=rtol * np.abs(Z_ref).max())
    W_sparse, Z_sparse = gram_products(sp.csr_array(X), V)
    assert_allclose(W_sparse, W, rtol=rtol, atol=rtol * np.abs(W_ref).max())
    assert_allclose(Z_sparse, Z, rtol=rtol, atol=rtol * np.abs(Z_ref).max())


def test_sparse_follows_the_same_route():
    rng = np.random.default_rng(0)
    X = sp.random_array((400, 300), density=0.05, format="csr", rng=rng)
    X = X + sp.diags_array(np.linspace(5, 1, 300), shape=(400, 300))
    total = float(np.sum(X.toarray() ** 2))
    options = {"block": 2, "tol": AUTO_TOL, "squared_norm": total}
    dense, sparse = (
        gram_lanczos_svd(A, 4, rng=np.random.default_rng(0), **options)
        for A in (X.toarray(), X.tocsr())
    )
    for a, b in zip(dense[:3], sparse[:3], strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_values_out_of_reach_of_the_gram_products_go_to_golub_kahan(monkeypatch):
    """float32, one value 1000 over a tail from 1: products with XᵀX carry
    rounding of eps·σ₁² = 0.06, as much as σ₂² itself; on its own the fused
    route finds σ₂ = 0.14 for 1.0."""
    X = with_spectrum(np.r_[1000.0, 0.97 ** np.arange(399)]).astype(np.float32)
    s_ref = np.linalg.svd(X.astype(np.float64), compute_uv=False)
    total = float(np.sum(s_ref**2))
    alone = gram_lanczos_svd(
        X, 2, block=2, tol=AUTO_TOL, squared_norm=total, rng=np.random.default_rng(0)
    )
    assert not gram_resolves(alone[1], X.dtype)
    taken = []
    monkeypatch.setattr(lanczos, "_times", _spy(lanczos._times, taken))
    s = block_lanczos_svd(
        X, 2, block=2, tol=AUTO_TOL, squared_norm=total, rng=np.random.default_rng(0)
    )[1]
    assert taken  # Golub–Kahan's products
    assert_allclose(s, s_ref[:2], rtol=5e-2)


def _spy(function, calls):
    def spied(*args, **kwargs):
        calls.append(1)
        return function(*args, **kwargs)

    return spied


def test_gram_resolves_and_fits():
    assert gram_resolves(np.array([1.0, 0.03]), np.float32)
    assert not gram_resolves(np.array([1.0, 0.01]), np.float32)
    assert gram_resolves(np.array([1.0, 1e-5]), np.float64)
    # Values at rounding level, or none at all, need no resolving.
    assert gram_resolves(np.array([1.0, 1e-7, 0.0]), np.float32)
    assert gram_resolves(np.zeros(3), np.float32)
    assert gram_fits(1e10, np.float32)
    assert not gram_fits(1e40, np.float32)
    assert not gram_fits(1e-40, np.float32)
    assert gram_fits(1e-40, np.float64)


def test_the_residual_bound_never_stops_a_cluster_early():
    converged = np.array([10.0, 5.0, 1.0])
    small = np.full((2, 3), 1e-6)
    assert _bounded(converged, small, 2, AUTO_TOL, squared_norm=200.0)
    # Two equal values: no gap, no bound (the energy rule decides).
    assert not _bounded(np.array([5.0, 5.0, 1.0]), small, 2, AUTO_TOL, 200.0)
    # A neighbour whose own residual spans the gap.
    loose = np.array([[1e-6, 1e-6, 30.0]])
    assert not _bounded(np.array([5.0, 3.0, 2.0]), loose, 2, AUTO_TOL, 200.0)
    assert not _bounded(converged, small, 2, 0.0, 200.0)  # tol = 0: never


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("offset", [0.0, 100.0, 1e8])
def test_square_sums_on_every_path(dtype, order, offset):
    """The BLAS route (C order, spread not swamped by the means) and the
    shifted element-wise one (an offset of 1e8: variances 1e-16 of the mean
    squares) agree with numpy in float64."""
    rng = np.random.default_rng(0)
    X = (offset + 3 * rng.standard_normal((700, 9))).astype(dtype)
    X = np.asarray(X, order=order)
    X64 = X.astype(np.float64)
    total, total_var = square_sums(X, block_elements=100)
    assert total == pytest.approx(np.sum(X64**2), rel=1e-13)
    assert total_var == pytest.approx(np.var(X64, axis=0).sum(), rel=1e-11)


def test_square_sums_see_a_nan():
    X = np.ones((50, 4))
    X[3, 2] = np.nan
    assert np.isnan(square_sums(X).total)
