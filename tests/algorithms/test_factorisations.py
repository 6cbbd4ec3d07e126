"""Direct tests of the factorisations of the algorithm layer: Householder QR and
TSQR (``qr``), the least-squares routes (``lstsq``), the truncated SVDs and the
energy rule (``svd``, ``randomized_svd``) and a fit's figures (``svd_figures``).

Every result is checked against an independent numpy or scipy reference at a
tight tolerance.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skla._algorithms import svd as svd_module
from skla._algorithms.lstsq import (
    GramFactorisation,
    filter_factors,
    lsqr_solve,
    qr_solve,
    solve_from_svd,
    svd_solve,
)
from skla._algorithms.qr import apply_q, householder, tsqr
from skla._algorithms.randomized_svd import RangeFinder
from skla._algorithms.svd import (
    ENERGY_RTOL,
    SkinnySVD,
    energy_rank,
    full_svd,
    full_svd_energy,
    grow_to_energy,
    is_skinny,
    lanczos_svd,
    r_factor,
    top,
)
from skla._algorithms.svd_figures import (
    column_variances,
    coordinate_moments,
    coordinates,
    figures,
    projection_error,
    total_variance,
)
from skla._data import LstsqProblem


def with_spectrum(m, n, s, seed=0):
    """An m×n matrix with singular values ``s`` and random singular vectors."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((m, len(s))))[0]
    V = np.linalg.qr(rng.standard_normal((n, len(s))))[0]
    return (U * s) @ V.T


def sign_fixed(R):
    """R with every row scaled to a non-negative diagonal (QR is unique so)."""
    d = np.sign(np.diag(R)).copy()
    d[d == 0] = 1.0
    return R * np.pad(d, (0, R.shape[0] - len(d)), constant_values=1.0)[:, None]


# -- Householder QR and TSQR ----------------------------------------------------


def reader(X):
    def read(rows, out):
        out[...] = X[rows]

    return read


@pytest.mark.parametrize("block_rows", [1, 3, 7, 64, None])
def test_tsqr_is_the_r_of_numpy_qr(block_rows):
    X = np.random.default_rng(0).standard_normal((200, 7)) * [1, 1e3, 1e-3, 1, 5, 1, 2]
    R = tsqr(reader(X), X.shape, block_rows=block_rows)
    assert R.flags.f_contiguous
    assert_array_equal(np.tril(R, -1), 0.0)
    gram = X.T @ X
    assert np.max(np.abs(R.T @ R - gram)) <= 1e-12 * np.max(np.abs(gram))
    reference = np.linalg.qr(X, mode="r")
    assert_allclose(sign_fixed(R), sign_fixed(reference), rtol=1e-10, atol=1e-12)


def test_tsqr_of_a_matrix_shorter_than_wide():
    X = np.random.default_rng(1).standard_normal((3, 5))
    R = tsqr(reader(X), X.shape)
    assert R.shape == (5, 5)
    assert_array_equal(R[3:], 0.0)
    assert_allclose(
        sign_fixed(R[:3]), sign_fixed(np.linalg.qr(X, mode="r")), atol=1e-13
    )


@pytest.mark.parametrize("kind", ["dense", "float32", "csr", "csc"])
def test_r_factor_of_dense_sparse_and_float32_data(kind):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3000, 20))
    X[rng.random(X.shape) < 0.7] = 0.0
    data = {
        "dense": X,
        "float32": X.astype(np.float32),
        "csr": sp.csr_array(X),
        "csc": sp.csc_array(X),
    }[kind]
    reference = X.astype(np.float32).astype(np.float64) if kind == "float32" else X
    R = r_factor(data, block_elements=20 * 70)  # 70-row blocks: 43 of them
    assert R.dtype == np.float64
    gram = reference.T @ reference
    assert np.max(np.abs(R.T @ R - gram)) <= 1e-12 * np.max(np.abs(gram))


def test_householder_and_apply_q_rebuild_the_matrix():
    A = np.random.default_rng(3).standard_normal((9, 4))
    qr, tau, R = householder(np.asfortranarray(A))
    assert_array_equal(R, np.triu(qr[:4]))
    c = np.zeros((9, 4), order="F")
    c[:4] = R
    assert_allclose(apply_q(qr, tau, c), A, atol=1e-14)  # Q R = A
    Q = apply_q(qr, tau, np.asfortranarray(np.eye(9)))
    assert_allclose(Q.T @ Q, np.eye(9), atol=1e-14)


# -- Least squares --------------------------------------------------------------


def weighted_problem(n=60, d=6, k=2, seed=0, cols=None):
    """A weighted, centred problem and its explicit A and B."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + 20.0
    if cols is not None:
        X = cols(X)
    Y = rng.standard_normal((n, k))
    w = rng.uniform(0.5, 2.0, n)
    mu, nu = w @ X / w.sum(), w @ Y / w.sum()
    A = np.sqrt(w)[:, None] * (X - mu)
    B = np.sqrt(w)[:, None] * (Y - nu)
    return LstsqProblem(X, Y, w, mu, nu), A, B


def ridge(A, B, alpha):
    return np.linalg.solve(A.T @ A + alpha * np.eye(A.shape[1]), A.T @ B)


def test_gram_solve_matches_numpy_lstsq_and_ridge():
    problem, A, B = weighted_problem()
    gram = GramFactorisation.of(problem, block_rows=7)
    coef, rank, s = gram.solve(0.0, 1e-12)
    assert rank == 6
    assert_allclose(coef, np.linalg.lstsq(A, B, rcond=None)[0], rtol=1e-12)
    assert_allclose(s, np.linalg.svd(A, compute_uv=False), rtol=1e-12)
    assert_allclose(gram.solve(3.0, 1e-12)[0], ridge(A, B, 3.0), rtol=1e-12)


def test_gram_error_estimate_bounds_the_actual_error():
    # Columns scaled over 6 decades: cond(A)² ~ 1e12, the normal equations
    # lose most digits -- and say so.
    problem, A, B = weighted_problem(cols=lambda X: X * np.logspace(0, 6, 6))
    gram = GramFactorisation.of(problem)
    coef = gram.solve(0.0, 1e-15)[0]
    exact = np.linalg.lstsq(A, B, rcond=None)[0]
    actual = np.linalg.norm(coef - exact) / np.linalg.norm(exact)
    estimate = gram.relative_error(0.0, 1e-15)
    assert estimate > 1e-9  # "auto" would not trust it
    assert actual <= 10 * estimate
    well, _, _ = weighted_problem()
    assert GramFactorisation.of(well).relative_error(0.0, 1e-12) < 1e-13


def test_gram_solve_of_a_rank_deficient_problem_is_the_minimum_norm_one():
    problem, A, B = weighted_problem(
        cols=lambda X: np.hstack([X, X[:, :1] + X[:, 1:2]])
    )
    gram = GramFactorisation.of(problem)
    coef, rank, _ = gram.solve(0.0, 1e-10)
    assert rank == 6
    assert_allclose(coef, np.linalg.pinv(A) @ B, rtol=1e-9)
    # The cut eigenvalue takes the eigenvector route, with the ridge too.
    assert_allclose(gram.solve(1.0, 1e-10)[0], ridge(A, B, 1.0), rtol=1e-10)


@pytest.mark.parametrize("solve", [svd_solve, qr_solve])
@pytest.mark.parametrize("shape", [(60, 6), (5, 9)])  # tall and wide
@pytest.mark.parametrize("alpha", [0.0, 2.0])
def test_svd_and_qr_solves_match_numpy(solve, shape, alpha):
    problem, A, B = weighted_problem(*shape, k=3)
    coef, rank, s = solve(problem, alpha, 1e-12)
    reference = np.linalg.lstsq(A, B, rcond=None)[0] if alpha == 0 else None
    if alpha:
        U, ref_s, Vt = np.linalg.svd(A, full_matrices=False)
        reference = Vt.T @ ((ref_s / (ref_s**2 + alpha))[:, None] * (U.T @ B))
    assert_allclose(coef, reference, rtol=1e-10, atol=1e-13)
    assert rank == min(shape[0] - 1, shape[1])  # centring removes one row
    assert_allclose(s[:rank], np.linalg.svd(A, compute_uv=False)[:rank], rtol=1e-12)


def test_qr_solve_over_many_blocks():
    problem, A, B = weighted_problem(200, 6)
    coef = qr_solve(problem, 0.0, 1e-12, block_rows=3)[0]
    assert_allclose(coef, np.linalg.lstsq(A, B, rcond=None)[0], rtol=1e-12)


def test_lsqr_solve_matches_numpy_and_warns_at_its_limit():
    problem, A, B = weighted_problem()
    kwargs = {"atol": 1e-14, "btol": 1e-14}
    coef = lsqr_solve(problem, 0.0, 1e-12, max_iter=500, **kwargs)
    assert_allclose(coef, np.linalg.lstsq(A, B, rcond=None)[0], rtol=1e-9)
    assert_allclose(
        lsqr_solve(problem, 2.0, 1e-12, max_iter=500, **kwargs), ridge(A, B, 2.0)
    )
    with pytest.warns(match="LSQR reached max_iter=2"):
        lsqr_solve(problem, 0.0, 1e-12, max_iter=2, **kwargs)


def test_filter_factors_neither_overflow_nor_underflow():
    phi, rank = filter_factors(np.array([1e200, 1.0, 1e-200]), 1.0, 0.0)
    assert rank == 3
    assert_allclose(phi, [1e-200, 0.5, 1e-200], rtol=1e-15)  # s/(s²+α) gives 0s


def test_solve_from_svd_is_the_filtered_pseudo_inverse():
    A = with_spectrum(8, 4, np.array([4.0, 2.0, 1.0, 1e-14]))
    B = np.random.default_rng(4).standard_normal((8, 2))
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    coef, rank, _ = solve_from_svd(s, Vt.T, U.T @ B, 0.0, 1e-10)
    assert rank == 3
    assert_allclose(coef, np.linalg.pinv(A, rcond=1e-10) @ B, rtol=1e-10)


# -- The energy rule ------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "target", "expected"),
    [
        ([2.0, 1.0, 1.0, 1.0], 4.0, (1, True)),  # the first value alone
        ([2.0, 1.0, 1.0, 1.0], 5.0, (2, True)),  # exactly reached
        ([2.0, 1.0, 1.0, 1.0], 5.0 * (1 + 0.1 * ENERGY_RTOL), (2, True)),  # rounding
        ([2.0, 1.0, 1.0, 1.0], 5.0 * (1 + 10 * ENERGY_RTOL), (3, True)),  # beyond it
        ([1.0, 1.0, 1.0, 1.0], 2.0, (2, True)),  # ties: not one more
        ([1.0, 1.0, 1.0, 1.0], 2.5, (3, True)),
        ([1.0, 1.0, 1.0, 1.0], 4.0, (4, True)),
        ([3.0, 2.0], 14.0, (2, False)),  # falls short
        ([0.0, 0.0, 0.0], 0.0, (1, True)),  # all-zero spectrum, X = 0
        ([0.0, 0.0, 0.0], 1.0, (3, False)),
        ([], 0.0, (0, True)),
    ],
)
def test_energy_rank_on_hand_made_spectra(s, target, expected):
    assert energy_rank(np.array(s), target) == expected


def test_energy_rank_counts_float32_values_in_float64():
    # Summed in float64 (a float32 sum of 10 squares is off by ~1e-7), with
    # float32's tolerance, 16·eps = 1.9e-6: a share missed by 1e-4 counts.
    s = np.full(10, 1.1, dtype=np.float32)
    exact = float(s[0]) ** 2
    assert energy_rank(s, 7 * exact) == (7, True)
    assert energy_rank(s, 7 * exact * (1 + 1e-6)) == (7, True)
    assert energy_rank(s, 7 * exact * (1 + 1e-4)) == (8, True)
    assert energy_rank(s.astype(np.float64), 7 * exact * (1 + 1e-9)) == (8, True)


def test_grow_to_energy_doubles_and_falls_back_to_lapack():
    X = with_spectrum(100, 80, 0.97 ** np.arange(80))
    asked = []

    def svd(k):
        asked.append(k)
        return top(full_svd(X), k)

    U, s, _ = grow_to_energy(svd, X, 0.9)
    exact = np.linalg.svd(X, compute_uv=False)
    expected = int(np.searchsorted(np.cumsum(exact**2) / np.sum(exact**2), 0.9) + 1)
    assert asked == [16, 32, 64]
    assert len(s) == expected
    assert U.shape == (100, expected)
    assert_allclose(s, exact[:expected], rtol=1e-12)
    asked.clear()
    s = grow_to_energy(svd, X, 0.9999999)[1]  # more than min(m, n) - 1 hold
    assert asked == [16, 32, 64, 79]
    assert len(s) == 80


# -- Truncated SVDs ---------------------------------------------------------------


def check_triplets(X, triplets, k, rtol=1e-10):
    """Singular values as numpy's; U, Vt orthonormal; the optimal rank-k error."""
    U, s, Vt = triplets
    dense = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    exact = np.linalg.svd(dense, compute_uv=False)
    assert_allclose(s, exact[:k], rtol=rtol)
    assert_allclose(U.T @ U, np.eye(k), atol=100 * rtol)
    assert_allclose(Vt @ Vt.T, np.eye(k), atol=100 * rtol)
    error = np.linalg.norm(dense - (U * s) @ Vt)
    assert error == pytest.approx(np.sqrt(np.sum(exact[k:] ** 2)), rel=1e-6, abs=1e-12)


SHAPES = {
    "square": (150, 120),
    "tall": (2000, 30),  # skinny: the R-factor route
    "wide": (30, 2000),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("solver", ["arpack", "propack"])
def test_lanczos_svd_matches_numpy(shape, solver):
    m, n = SHAPES[shape]
    X = with_spectrum(m, n, 0.8 ** np.arange(min(m, n)), seed=5)
    check_triplets(X, lanczos_svd(X, 4, solver=solver, random_state=0), 4)


def test_lanczos_svd_falls_back_to_lapack(monkeypatch):
    def fail(*args, **kwargs):
        raise np.linalg.LinAlgError("no")

    monkeypatch.setattr(svd_module, "svds", fail)
    X = with_spectrum(150, 120, 0.8 ** np.arange(120))
    with pytest.warns(UserWarning, match="used LAPACK's full SVD"):
        triplets = lanczos_svd(X, 3, solver="propack", random_state=0)
    check_triplets(X, triplets, 3)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sparse", [False, True])
def test_skinny_and_full_svd_match_numpy(shape, sparse):
    m, n = SHAPES[shape]
    X = with_spectrum(m, n, 0.9 ** np.arange(min(m, n)), seed=6)
    data = sp.csr_array(X) if sparse else X
    check_triplets(X, top(full_svd(data), 5), 5)
    if is_skinny(X):
        check_triplets(X, SkinnySVD().svd(data, 5), 5)


def test_skinny_svd_keeps_float32_and_handles_zero_singular_values():
    X = np.zeros((1000, 10), dtype=np.float32)
    X[:, :2] = np.random.default_rng(7).standard_normal((1000, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0
        U, s, Vt = SkinnySVD().svd(X, 4)
    assert U.dtype == s.dtype == Vt.dtype == np.float32
    assert_allclose(s[:2], np.linalg.svd(X.astype(np.float64), compute_uv=False)[:2])
    assert_array_equal(U[:, 2:], 0.0)  # not 0/0
    assert np.all(np.isfinite(U))


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.99])
def test_exact_energy_routes_pick_the_smallest_rank(fraction):
    s_true = 0.9 ** np.arange(30)
    X = with_spectrum(1500, 30, s_true, seed=8)
    cumulative = np.cumsum(s_true**2) / np.sum(s_true**2)
    expected = int(np.searchsorted(cumulative, fraction) + 1)
    for _, s, _ in (full_svd_energy(X, fraction), SkinnySVD().svd_energy(X, fraction)):
        assert len(s) == expected
        assert_allclose(s, s_true[:expected], rtol=1e-10)


def test_range_finder_matches_numpy():
    X = with_spectrum(400, 300, 0.7 ** np.arange(300), seed=9)
    check_triplets(X, RangeFinder().svd(X, 6, random_state=0), 6)
    sparse = sp.csr_array(np.where(np.abs(X) > 1e-3, X, 0.0))
    check_triplets(sparse, RangeFinder().svd(sparse, 6, random_state=0), 6)


def test_range_finder_energy_criterion_holds_the_fraction():
    s_true = 0.8 ** np.arange(300)
    X = with_spectrum(400, 300, s_true, seed=10)
    total = np.sum(s_true**2)
    for fraction in [0.3, 0.9, 0.999]:
        s = RangeFinder().svd_energy(X, fraction, random_state=0, block=8)[1]
        expected = int(np.searchsorted(np.cumsum(s_true**2) / total, fraction) + 1)
        assert len(s) == expected
        assert_allclose(s, s_true[:expected], rtol=1e-10)
        assert np.sum(s**2) >= fraction * total * (1 - ENERGY_RTOL)


def test_range_finder_options():
    default = RangeFinder()
    assert default.oversampling(50) == 10
    assert default.power_iterations((1000, 500), 49) == 7  # k < min/10
    assert default.power_iterations((1000, 500), 50) == 4
    doubled = RangeFinder(10, 4, oversample_rank=True)
    assert doubled.oversampling(5) == 10
    assert doubled.oversampling(50) == 50
    assert doubled.power_iterations((1000, 500), 1) == 4


# -- A fit's figures --------------------------------------------------------------


@pytest.mark.parametrize("block", [1, 7, 1000])
@pytest.mark.parametrize("kind", ["dense", "float32", "csr"])
def test_variances_match_numpy(block, kind):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((300, 5)) * [1, 1e-3, 1e3, 1, 0] + [1e6, 0, 5, -3, 7]
    data = {
        "dense": X,
        "float32": X.astype(np.float32),
        "csr": sp.csr_array(np.where(np.abs(X) > 0.5, X, 0.0)),
    }[kind]
    dense = data.toarray() if sp.issparse(data) else data.astype(np.float64)
    reference = np.var(dense, axis=0)
    if kind == "csr":
        variances = column_variances(data)  # sklearn's sparse moments: no blocks
    else:
        variances = column_variances(data, block=block)
    assert_allclose(variances, reference, rtol=1e-9, atol=1e-20)
    assert total_variance(data, block=block) == pytest.approx(
        reference.sum(), rel=1e-12
    )


@pytest.mark.parametrize("sparse", [False, True])
def test_projection_error_matches_the_residual(sparse):
    X = with_spectrum(300, 40, np.linspace(3, 1, 40), seed=12)
    Vt = np.linalg.svd(X, full_matrices=False)[2][:5]
    data = sp.csr_array(X) if sparse else X
    expected = np.linalg.norm(X - X @ Vt.T @ Vt) ** 2
    assert projection_error(data, Vt, block_elements=40 * 7) == pytest.approx(
        expected, rel=1e-12
    )


def test_figures_match_their_definitions():
    rng = np.random.default_rng(13)
    X = rng.standard_normal((200, 30)) + 2.0
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    Z, total = U[:, :4] * s[:4], np.sum(X**2)
    fit = figures(4.0 * X, Vt[:4], 4.0 * s[:4], total=16 * total, scale=4.0)
    given = figures(4.0 * X, Vt[:4], 4.0 * s[:4], total=16 * total, scale=4.0, Z=4 * Z)
    assert_allclose(given.explained_variance, fit.explained_variance, rtol=1e-12)
    assert_allclose(fit.explained_variance, np.var(Z, axis=0), rtol=1e-12)
    assert_allclose(
        fit.explained_variance_ratio,
        np.var(Z, axis=0) / np.var(X, axis=0).sum(),
        rtol=1e-12,
    )
    assert_allclose(fit.explained_energy_ratio, s[:4] ** 2 / total, rtol=1e-12)
    direct = np.linalg.norm(X - Z @ Vt[:4]) / np.linalg.norm(X)
    assert fit.reconstruction_error == pytest.approx(direct, rel=1e-12)


def test_figures_resolve_an_error_below_the_square_root_of_eps():
    # ‖X‖² − ‖XV‖² is 1e-14 of ‖X‖² here: the difference alone would lose
    # two digits of it; the residual is summed instead.
    s = np.array([1.0, 1e-7])
    X = with_spectrum(500, 50, s, seed=14)
    Vt = np.linalg.svd(X, full_matrices=False)[2]
    Z = X @ Vt[:1].T
    fit = figures(X, Vt[:1], s[:1], total=float(np.sum(s**2)), Z=Z)
    assert fit.reconstruction_error == pytest.approx(1e-7, rel=1e-6)


@pytest.mark.parametrize("block_elements", [7, 60, 1 << 18])
def test_coordinate_moments_by_blocks_equal_numpy(block_elements):
    # Columns far from 0 (offset 1e6): the shifted sums keep their spread.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 6)) + 1e6 * rng.random(6)
    Vt = np.linalg.qr(rng.standard_normal((6, 3)))[0].T
    Z = X @ Vt.T
    for source in (X, sp.csr_matrix(X)):
        mean, variance, squares = coordinate_moments(
            source, Vt, block_elements=block_elements
        )
        assert_allclose(mean, Z.mean(axis=0), rtol=1e-13)
        assert_allclose(variance, np.var(Z - Z.mean(axis=0), axis=0), rtol=1e-6)
        assert squares == pytest.approx(np.sum(Z**2), rel=1e-13)
    assert_array_equal(coordinates(X, Vt), Z)


def test_figures_of_zero_data_are_finite():
    X = np.zeros((5, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = figures(X, np.eye(1, 3), np.zeros(1), total=0.0)
    assert fit.reconstruction_error == 0.0
    assert_array_equal(fit.explained_energy_ratio, [0.0])
