"""The Gram route's Cholesky certificate (issue 25): it answers as the
eigenvalues would, or not at all."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skla import PinvRegressor
from skla._algorithms.gram import GramFactorisation
from skla.components.lstsq import GRAM_TOL
from skla.datasets import make_spectral_regression


def gram_of(A, B):
    return GramFactorisation.of_scatter(A.T @ A, A.T @ B)


def conditioned(cond, n=200, d=8, seed=0):
    """Centred A of condition number ``cond``, and two targets."""
    A, B, _ = make_spectral_regression(
        n, d, cond=cond, n_targets=2, noise=1.0, random_state=seed
    )
    return A, B


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_certified_solution_is_the_eigenvalue_route_s(alpha):
    A, B = conditioned(30.0)
    gram = gram_of(A, B)
    coef, rank = gram.certified_solve(alpha, 1e-12, GRAM_TOL)
    expected = np.linalg.solve(A.T @ A + alpha * np.eye(8), A.T @ B)
    assert rank == 8
    assert_allclose(coef, expected, rtol=1e-12)
    # No eigenvalues were needed; asked for, they are A's singular values.
    assert "eigenvalues" not in vars(gram)
    assert_allclose(gram.singular_values(), np.linalg.svd(A, compute_uv=False))


def random_case(seed):
    """Conditions around the threshold (cond(A)² · eps ~ 1e-9: cond ~ 2000),
    ridges, cuts and sizes drawn at random."""
    rng = np.random.default_rng(seed)
    cond = 10 ** rng.uniform(0, 6)
    alpha = [0.0, 1e-8, 1e-3][seed % 3]
    rtol = [1e-12, 1e-4, 0.05][seed % 4 % 3]
    A, B = conditioned(cond, d=int(rng.integers(2, 30)), seed=seed)
    return gram_of(A, B), alpha, rtol


def test_the_random_cases_meet_both_answers():
    answers = [
        gram.certified_solve(alpha, rtol, GRAM_TOL) is not None
        for gram, alpha, rtol in map(random_case, range(40))
    ]
    assert 5 <= sum(answers) <= 35


@pytest.mark.parametrize("seed", range(40))
def test_the_certificate_never_passes_what_the_eigenvalues_fail(seed):
    gram, alpha, rtol = random_case(seed)
    certified = gram.certified_solve(alpha, rtol, GRAM_TOL)
    if certified is None:
        return
    coef, rank = certified
    lam = gram.eigenvalues
    assert gram.relative_error(alpha, rtol) <= GRAM_TOL
    assert rank == lam.size == gram.solve(alpha, rtol)[1]  # nothing cut
    assert_allclose(coef, gram.solve(alpha, rtol)[0], rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    "case",
    ["ill-conditioned", "rank-deficient", "large rtol", "zero", "non-finite"],
)
def test_what_the_certificate_leaves_to_the_eigenvalues(case):
    A, B = conditioned(1e5)  # cond² · eps ~ 2e-6 > GRAM_TOL
    rtol = 1e-12
    if case == "rank-deficient":
        A, B = conditioned(10.0)
        A[:, -1] = A[:, 0]
    elif case == "large rtol":  # cond 30: the cut at 0.1 drops a direction
        A, B = conditioned(30.0)
        rtol = 0.1
    elif case == "zero":
        A = np.zeros_like(A)
    gram = gram_of(A, B)
    if case == "non-finite":
        gram = GramFactorisation.of_scatter(np.full((2, 2), np.nan), B[:2])
    assert gram.certified_solve(0.0, rtol, GRAM_TOL) is None


def _data(n=500, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + 5
    return X, X @ rng.standard_normal(d) + rng.standard_normal(n)


def _centred_singular_values(X):
    return np.linalg.svd(X - X.mean(0), compute_uv=False)


@pytest.mark.parametrize("solver", ["auto", "gram"])
def test_deferred_singular_values_are_computed_when_read(solver):
    X, y = _data()
    model = PinvRegressor(solver=solver).fit(X, y)
    assert "singular_values_" not in vars(model)  # deferred, not computed
    assert model.solver_used_ == "gram"
    assert_allclose(model.singular_values_, _centred_singular_values(X), rtol=1e-10)
    assert "singular_values_" in vars(model)
    assert "_deferred" not in vars(model)  # the Gram matrix freed


def test_deferred_singular_values_keep_the_data_dtype_and_scale():
    X, y = _data()
    X32 = X.astype(np.float32)
    model = PinvRegressor().fit(X32, y.astype(np.float32))
    assert model.singular_values_.dtype == np.float32
    huge = PinvRegressor().fit(X * 1e170, y)  # solved on X scaled by 2^k
    assert_allclose(huge.singular_values_, _centred_singular_values(X) * 1e170)


def test_a_pickle_carries_the_singular_values_not_the_gram_matrix():
    X, y = _data(d=40)
    model = PinvRegressor().fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert "_deferred" not in vars(restored)
    assert_array_equal(restored.singular_values_, model.singular_values_)
    assert_allclose(restored.singular_values_, _centred_singular_values(X))


def test_a_refit_replaces_deferred_and_computed_singular_values():
    X, y = _data()
    model = PinvRegressor().fit(X, y)
    model.set_params(solver="qr").fit(X[:, :3], y)  # computed, not deferred
    assert "_deferred" not in vars(model)
    assert_allclose(model.singular_values_, _centred_singular_values(X[:, :3]))
    model.set_params(solver="auto").fit(X[:, :4], y)  # deferred again
    assert "singular_values_" not in vars(model)
    assert_allclose(model.singular_values_, _centred_singular_values(X[:, :4]))


def test_unfitted_and_unknown_attributes_still_raise():
    assert not hasattr(PinvRegressor(), "singular_values_")
    model = PinvRegressor().fit(*_data())
    with pytest.raises(AttributeError, match="no attribute 'coef_x_'"):
        model.coef_x_  # noqa: B018
