"""Block Golub–Kahan–Lanczos (skla._algorithms.lanczos), against LAPACK."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from spectra import error_ratio, with_spectrum

from skla._algorithms.lanczos import (
    block_lanczos_svd,
    block_size,
    krylov_svd,
    may_miss_a_copy,
)
from skla.components.svd import AUTO_TOL, BlockLanczosSVD

DECAYING = 10 * 0.95 ** np.arange(400)
# 5 three times and 4 twice on top: a block of two meets 5 only twice.
REPEATED = np.concatenate([[5, 5, 5, 4, 4], 3 * 0.97 ** np.arange(395)])


@pytest.mark.parametrize("k", [1, 2, 5, 12, 40])
def test_converged_triplets_are_lapacks(k):
    X = with_spectrum(DECAYING)
    U, s, Vt = krylov_svd(
        X, k, tol=0.0, squared_norm=float(np.sum(X**2)), rng=np.random.default_rng(0)
    )
    _U_ref, s_ref, Vt_ref = np.linalg.svd(X, full_matrices=False)
    assert_allclose(s, s_ref[:k], rtol=1e-10)
    # Same vectors up to sign; X V = U Σ; orthonormal.
    assert_allclose(np.abs(np.sum(Vt * Vt_ref[:k], axis=1)), 1.0, atol=1e-8)
    assert_allclose(X @ Vt.T, U * s, atol=1e-10)
    assert_allclose(Vt @ Vt.T, np.eye(k), atol=1e-12)
    assert_allclose(U.T @ U, np.eye(k), atol=1e-12)


def test_the_kept_energy_is_exact_at_every_stop():
    """X V = U T holds to rounding, so ‖X V_k‖² is Σθ², however loose tol."""
    X = with_spectrum(DECAYING)
    total = float(np.sum(X**2))
    for tol in (0.3, 1e-3):
        _U, s, Vt, _steps = block_lanczos_svd(
            X, 6, block=2, tol=tol, squared_norm=total, rng=np.random.default_rng(0)
        )
        assert np.sum((X @ Vt.T) ** 2) == pytest.approx(np.sum(s**2), rel=1e-12)
    loose, tight = (
        block_lanczos_svd(
            X, 6, block=2, tol=t, squared_norm=total, rng=np.random.default_rng(0)
        )[3]
        for t in (0.3, 0.0)
    )
    assert loose < tight


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", range(1, 9))
def test_a_repeated_singular_value_is_found_as_often_as_it_counts(dtype, k):
    X = with_spectrum(REPEATED).astype(dtype)
    _U, s, Vt = krylov_svd(
        X,
        k,
        tol=AUTO_TOL,
        squared_norm=float(np.sum(REPEATED**2)),
        rng=np.random.default_rng(0),
    )
    assert error_ratio(X, Vt, REPEATED, k) <= 1.001
    assert_allclose(s, REPEATED[:k], rtol=1e-3)


def test_without_widening_a_block_of_two_misses_the_third_copy():
    """What the widening guards against (so the test above can fail)."""
    X = with_spectrum(REPEATED)
    _U, s, Vt, _ = block_lanczos_svd(
        X,
        3,
        block=2,
        tol=AUTO_TOL,
        squared_norm=float(np.sum(REPEATED**2)),
        rng=np.random.default_rng(0),
    )
    assert error_ratio(X, Vt, REPEATED, 3) > 1.01
    assert may_miss_a_copy(s, 3, 2, rtol=np.sqrt(np.finfo(float).eps) + 0.4 * AUTO_TOL)


def test_may_miss_a_copy():
    s = np.array([5.0, 5.0, 5.0, 4.0, 1.0, 0.0, 0.0])
    assert may_miss_a_copy(s, 4, 2, rtol=1e-9)  # two 5s before position 4
    assert not may_miss_a_copy(s, 4, 4, rtol=1e-9)  # block as wide as k
    assert may_miss_a_copy(s, 2, 1, rtol=1e-9)  # a vector can miss anything
    assert not may_miss_a_copy(np.array([5.0, 4.0, 3.0]), 3, 2, rtol=1e-9)
    # Zeros (an exhausted rank) hold no energy to miss.
    zeros = np.array([5.0, 0.0, 0.0, 0.0])
    assert not may_miss_a_copy(zeros, 4, 2, rtol=1e-9, floor=1e-12)


def test_a_rank_deficient_matrix():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3)) @ rng.standard_normal((3, 300))
    for k in (3, 5, 10):
        U, s, Vt = krylov_svd(
            X, k, tol=AUTO_TOL, squared_norm=float(np.sum(X**2)), rng=rng
        )
        s_ref = np.linalg.svd(X, compute_uv=False)
        assert_allclose(s[:3], s_ref[:3], rtol=1e-10)
        assert_allclose(s[3:], 0.0, atol=1e-10 * s_ref[0])
        assert_allclose((U * s) @ Vt, X, atol=1e-10 * s_ref[0])
        assert_allclose(Vt @ Vt.T, np.eye(k), atol=1e-10)


def test_the_zero_matrix():
    X = np.zeros((300, 250))
    _U, s, Vt = krylov_svd(
        X, 4, tol=AUTO_TOL, squared_norm=0.0, rng=np.random.default_rng(0)
    )
    assert_allclose(s, 0.0)
    assert_allclose(Vt @ Vt.T, np.eye(4), atol=1e-12)


def test_sparse_is_multiplied_as_it_is():
    rng = np.random.default_rng(0)
    X = sp.random_array((400, 300), density=0.05, format="csr", rng=rng)
    X = X + sp.diags_array(np.linspace(5, 1, 300), shape=(400, 300))
    total = float(np.sum(X.toarray() ** 2))
    dense, sparse = (
        krylov_svd(A, 6, tol=AUTO_TOL, squared_norm=total, rng=np.random.default_rng(0))
        for A in (X.toarray(), X.tocsr())
    )
    for a, b in zip(dense, sparse, strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_component_keeps_the_dtype_and_falls_back_to_exact(dtype):
    X = with_spectrum(DECAYING).astype(dtype)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    U, s, Vt = BlockLanczosSVD(tol=0.0).svd(X, 3, random_state=0)
    assert U.dtype == s.dtype == Vt.dtype == dtype
    assert_allclose(s, DECAYING[:3], rtol=rtol)
    # The default tolerance: every value within 1e-3 (AutoSVD's promise).
    assert_allclose(BlockLanczosSVD().svd(X, 3, random_state=0).s, s, rtol=1e-3)
    small = X[:150]  # a side of at most 200: exact
    assert_allclose(
        BlockLanczosSVD().svd(small, 3, random_state=0).s,
        np.linalg.svd(small.astype(np.float64), compute_uv=False)[:3],
        rtol=1e-5,
    )


def test_block_size_is_a_vector_only_at_rank_one():
    assert block_size(1) == 1
    assert all(block_size(k) >= 2 for k in range(2, 200))
    assert max(block_size(k) for k in range(1, 1000)) == 16


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("block_elements", [1, 7, 16, 5000, 1 << 16])
def test_square_sums_equal_numpy(dtype, block_elements):
    from skla._algorithms.svd_figures import square_sums

    rng = np.random.default_rng(0)
    X = (100 + 30 * rng.standard_normal((1000, 6))).astype(dtype)
    X64 = X.astype(np.float64)
    total, total_var = square_sums(X, block_elements=block_elements)
    assert total == pytest.approx(np.sum(X64**2), rel=1e-13)
    assert total_var == pytest.approx(np.var(X64, axis=0).sum(), rel=1e-12)


def test_the_estimator_hands_its_squared_norm_to_a_solver_that_takes_it():
    from skla import TruncatedSVDCompressor
    from skla.components.svd import SVDResult

    seen = {}

    class Taking:
        def svd(self, X, n_components, *, random_state, squared_norm=None):
            seen["squared_norm"] = squared_norm
            U, s, Vt = np.linalg.svd(X, full_matrices=False)
            return SVDResult(U[:, :n_components], s[:n_components], Vt[:n_components])

    class NotTaking(Taking):
        def svd(self, X, n_components, *, random_state):
            return super().svd(X, n_components, random_state=random_state)

    X = with_spectrum(DECAYING)[:300, :250]
    TruncatedSVDCompressor(3, algorithm=Taking()).fit(X)
    assert seen["squared_norm"] == pytest.approx(np.sum(X**2), rel=1e-13)
    seen.clear()
    TruncatedSVDCompressor(3, algorithm=NotTaking()).fit(X)
    assert seen["squared_norm"] is None


def test_float32_needs_no_scan_for_a_power_of_two_scale(monkeypatch):
    from skla._algorithms import scaling

    def refuse(X):
        raise AssertionError("X was scanned")

    monkeypatch.setattr(scaling, "max_abs", refuse)
    X = np.full((10, 3), 3e38, dtype=np.float32)
    assert scaling.power_of_two_scale(X) == 1.0
    with pytest.raises(AssertionError, match="scanned"):
        scaling.power_of_two_scale(X.astype(np.float64))


@pytest.mark.parametrize("rank", [2, 4, 6])
def test_an_invariant_krylov_space_does_not_spoil_the_bases(rank):
    """Once the blocks span X's whole range, what is left of a product after
    its projection is rounding noise: the bases must stay orthonormal and
    the triplets exact."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((500, rank)) @ rng.standard_normal((rank, 400))
    k = rank + 3
    U, s, Vt, _ = block_lanczos_svd(
        X,
        k,
        block=2,
        tol=AUTO_TOL,
        squared_norm=float(np.sum(X**2)),
        rng=np.random.default_rng(0),
    )
    s_ref = np.linalg.svd(X, compute_uv=False)
    assert_allclose(s[:rank], s_ref[:rank], rtol=1e-10)
    assert_allclose(s[rank:], 0.0, atol=1e-10 * s_ref[0])
    assert_allclose(Vt @ Vt.T, np.eye(k), atol=1e-10)
    assert_allclose(U.T @ U, np.eye(k), atol=1e-10)
    assert_allclose((U * s) @ Vt, X, atol=1e-10 * s_ref[0])


def _auto(X, k):
    from skla.components.svd import AutoSVD

    return AutoSVD().svd(X, k, random_state=0)


def test_a_value_repeated_more_often_than_the_block_in_float32():
    """Six copies of 5 and a flat tail, rank 50, float32: the block's second
    Gram–Schmidt pass keeps the bases orthonormal when the Krylov space of
    the copies runs out (without it: singular values of 1e36)."""
    spectrum = np.r_[[5.0] * 6, np.ones(394)]
    X = with_spectrum(spectrum).astype(np.float32)
    _, s, Vt = _auto(X, 50)
    assert_allclose(s[:6], 5.0, rtol=1e-3)
    assert_allclose(s[6:], 1.0, rtol=1e-3)
    assert_allclose(Vt @ Vt.T, np.eye(50), atol=1e-5)
    assert error_ratio(X, Vt, spectrum, 50) <= 1.001


def test_float32_values_below_its_resolution_are_redone_in_float64():
    """1e8 + N(0, 1) in float32: σ₂/σ₁ = 2e-10, far below what float32
    products resolve (ARPACK and the randomized SVD give 2920 for 11.3)."""
    rng = np.random.default_rng(0)
    X = (1e8 + rng.standard_normal((600, 400))).astype(np.float32)
    s_ref = np.linalg.svd(X.astype(np.float64), compute_uv=False)
    s = _auto(X, 10).s
    assert s.dtype == np.float32
    assert_allclose(s, s_ref[:10], rtol=1e-3)


@pytest.mark.parametrize("size", [1e20, 1e-25])
@pytest.mark.parametrize("k", [1, 5])
def test_float32_entries_whose_squares_leave_its_range(size, k):
    X = with_spectrum(DECAYING)[:500, :300]
    s_ref = np.linalg.svd(X, compute_uv=False)[:k] * size
    X = (X * size).astype(np.float32)
    assert_allclose(_auto(X, k).s, s_ref, rtol=1e-3)


def test_a_flat_spectrum_does_not_widen_the_block(monkeypatch):
    """Gaussian noise: neighbouring values close, but not equal to the
    precision the values were settled to: one run, no restart."""
    import skla._algorithms.lanczos as lanczos

    runs = []
    run = lanczos.block_lanczos_svd

    def counted(*args, **kwargs):
        runs.append(kwargs["block"])
        return run(*args, **kwargs)

    monkeypatch.setattr(lanczos, "block_lanczos_svd", counted)
    X = np.random.default_rng(0).standard_normal((1000, 600))
    s = _auto(X, 40).s
    assert runs == [16]
    assert_allclose(s, np.linalg.svd(X, compute_uv=False)[:40], rtol=1e-3)


@pytest.mark.parametrize(
    ("params", "match"),
    [({"tol": -1.0}, "tol must be"), ({"block": 0}, "block must be")],
)
def test_lanczos_parameters_are_checked(params, match):
    X = with_spectrum(DECAYING)
    with pytest.raises(ValueError, match=match):
        BlockLanczosSVD(**params).svd(X, 3, random_state=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "case",
    [
        "random",
        "dependent",
        "zero second",
        "zero first",
        "huge",
        "huge second",
        "one column",
        "one row",
    ],
)
def test_narrow_qr_factors_w(case, dtype):
    """The QR of one or two columns (Gram–Schmidt twice, in float64):
    W = Q R with R upper triangular, Q orthonormal where R is of full rank,
    numpy's Householder R up to signs; a zero first column, one row or
    squares beyond float64's range fall back to numpy, float32 entries of
    1e20 do not overflow the norms."""
    from skla._algorithms.krylov_bases import _qr

    rng = np.random.default_rng(5)
    W = rng.standard_normal((500, 2))
    if case == "dependent":
        W[:, 1] = 3.0 * W[:, 0]
    elif case == "zero second":
        W[:, 1] = 0.0
    elif case == "zero first":
        W[:, 0] = 0.0
    elif case == "huge":
        W *= 1e20
    elif case == "huge second" and dtype == np.float64:
        W[:, 1] *= 1e155  # its squares overflow float64
    elif case == "one column":
        W = W[:, :1]
    elif case == "one row":
        W = W[:1]
    W = W.astype(dtype)
    Q, R = _qr(W)
    tol = 50 * np.finfo(dtype).eps
    assert Q.dtype == dtype
    assert np.all(np.isfinite(R))
    assert np.array_equal(np.triu(R), R)
    scale = float(np.abs(W).max()) * np.sqrt(W.size)  # ≥ ‖W‖, no overflow
    assert_allclose(Q.astype(np.float64) @ R, W, atol=tol * scale)
    reference = np.linalg.qr(W.astype(np.float64))[1]
    assert_allclose(np.abs(R), np.abs(reference), atol=tol * scale)
    full = [j for j in range(min(W.shape)) if abs(reference[j, j]) > tol * scale]
    Qf = Q[:, full].astype(np.float64)
    assert_allclose(Qf.T @ Qf, np.eye(len(full)), atol=tol)
