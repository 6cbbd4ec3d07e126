"""Least-squares components: the implicit problem and the block-wise solvers."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from skla._data import LstsqProblem
from skla.components.lstsq import (
    GramSolver,
    LstsqSolver,
    QRSolver,
    SVDSolver,
    filter_factors,
)


def make_problem(n=40, d=5, k=2, sparse=False, weighted=True, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * [1, 10, 100, 0.1, 1][:d] + 50.0
    if sparse:
        X[rng.random((n, d)) < 0.5] = 0.0
    Y = rng.standard_normal((n, k))
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    weights = np.ones(n) if w is None else w
    mu = weights @ X / weights.sum()
    nu = weights @ Y / weights.sum()
    A = np.sqrt(weights)[:, None] * (X - mu)
    B = np.sqrt(weights)[:, None] * (Y - nu)
    Xin = sp.csr_array(X) if sparse else X
    return LstsqProblem(Xin, Y, w, mu, nu), A, B


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_problem_views_agree_with_explicit_A(sparse, weighted):
    problem, A, B = make_problem(sparse=sparse, weighted=weighted)
    assert_allclose(problem.rhs(), B, atol=1e-12)
    gram = problem.gram(n_rows=7)
    assert_allclose(gram.G, A.T @ A, rtol=1e-10, atol=1e-8)
    assert_allclose(gram.AtB, A.T @ B, rtol=1e-10, atol=1e-8)
    blocks = [(a.copy(), b.copy()) for a, b in problem.blocks(n_rows=7)]
    assert len(blocks) == 6
    assert_allclose(np.vstack([a for a, _ in blocks]), A, atol=1e-12)
    assert_allclose(np.vstack([b for _, b in blocks]), B, atol=1e-12)
    op = problem.operator()
    v, u = np.arange(5.0), np.arange(40.0)
    assert_allclose(op.matvec(v), A @ v, rtol=1e-12, atol=1e-9)
    assert_allclose(op.rmatvec(u), A.T @ u, rtol=1e-12, atol=1e-9)
    if sparse:
        with pytest.raises(TypeError, match="needs a dense X"):
            problem.dense()
    else:
        assert_allclose(problem.dense(), A, atol=1e-12)


def test_sparse_gram_reports_its_cancellation_scale():
    problem, A, _ = make_problem(sparse=True)
    gram = problem.gram()
    assert gram.offset_scale > np.linalg.norm(A, 2) ** 2  # large column means
    dense_problem, _, _ = make_problem(sparse=False)
    assert dense_problem.gram().offset_scale == 0.0


def test_dense_does_not_touch_X_unless_allowed():
    problem, A, _ = make_problem()
    X = problem.X.copy()
    problem.dense()
    assert_allclose(problem.X, X)
    inplace = LstsqProblem(
        X,
        problem.Y,
        problem.sample_weight,
        problem.X_offset,
        problem.Y_offset,
        overwrite_X=True,
    )
    assert inplace.dense() is X
    assert_allclose(X, A, atol=1e-12)


def reference(A, B, alpha=0.0):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    phi = s / (s**2 + alpha)
    return Vt.T @ (phi[:, None] * (U.T @ B))


@pytest.mark.parametrize("block_rows", [1, 3, 7, 100])
@pytest.mark.parametrize("sparse", [False, True])
def test_tsqr_over_many_blocks(block_rows, sparse):
    problem, A, B = make_problem(sparse=sparse)
    for alpha in [0.0, 2.0]:
        result = QRSolver(block_rows=block_rows).solve(problem, alpha=alpha, rtol=1e-12)
        assert_allclose(result.coef, reference(A, B, alpha), rtol=1e-9)
        assert_allclose(result.singular_values, np.linalg.svd(A)[1][:5], rtol=1e-10)


@pytest.mark.parametrize("block_rows", [1, 7])
def test_gram_over_many_blocks(block_rows):
    problem, A, B = make_problem()
    result = GramSolver(block_rows=block_rows).solve(problem, alpha=0.0, rtol=1e-12)
    assert_allclose(result.coef, reference(A, B), rtol=1e-8)


def test_qr_with_fewer_rows_than_columns_of_A_and_B():
    # n = 6 samples, d = 5 features, 3 targets: [A | B] is wider than tall.
    problem, A, B = make_problem(n=6, d=5, k=3)
    result = QRSolver().solve(problem, alpha=0.0, rtol=1e-12)
    assert_allclose(result.coef, np.linalg.pinv(A) @ B, rtol=1e-8)


@pytest.mark.parametrize("solver", [SVDSolver(), QRSolver(), GramSolver()])
def test_builtin_solvers_follow_the_protocol(solver):
    assert isinstance(solver, LstsqSolver)
    problem, A, B = make_problem()
    result = solver.solve(problem, alpha=0.0, rtol=1e-12)
    assert result.coef.shape == (5, 2)
    assert result.rank == 5
    assert_allclose(result.coef, reference(A, B), rtol=1e-8)


def test_filter_factors_cut_and_ridge():
    s = np.array([10.0, 1.0, 1e-3, 0.0])
    phi, rank = filter_factors(s, 0.0, 1e-2)
    assert rank == 2
    assert_allclose(phi, [0.1, 1.0, 0.0, 0.0])
    phi, rank = filter_factors(s, 1.0, 0.0)
    assert rank == 3
    assert_allclose(phi, [10 / 101, 0.5, 1e-3 / (1 + 1e-6), 0.0])
    assert filter_factors(np.zeros(3), 0.0, 0.1)[1] == 0
