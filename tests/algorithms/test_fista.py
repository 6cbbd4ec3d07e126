"""Direct tests of the proximal gradient solver and its smooth objectives.

Every solution is checked against an independent reference: a dense solve,
scikit-learn's coordinate descent, or scipy's L-BFGS on the same objective
written here in numpy.
"""

import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso, LinearRegression

from skla._algorithms.fista import proximal_gradient
from skla._algorithms.objectives import (
    LossObjective,
    QuadraticObjective,
    coefficients,
    regression_objective,
)
from skla._data import LstsqProblem
from skla.components.losses import Huber, SquaredError
from skla.components.penalties import L1, ElasticNet
from skla.components.step_sizes import Armijo, AutoStep, ConstantStep
from skla.exceptions import DivergenceError


def spd(d, seed, low=1.0, high=10.0):
    """A random SPD matrix with eigenvalues spread over [low, high]."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (Q * np.linspace(low, high, d)) @ Q.T


def solve(objective, step_rule, *, penalty=None, alpha=0.0, eta0=1.0, **kwargs):
    """proximal_gradient from a cold start with a tight tolerance."""
    d = objective.n_penalized + (
        isinstance(objective, LossObjective) and objective.fit_intercept
    )
    k = objective.h.shape[1] if isinstance(objective, QuadraticObjective) else 1
    options = {"max_iter": 20000, "tol": 1e-14, "theta0": np.zeros((d, k))}
    options.update(kwargs)
    return proximal_gradient(
        objective, penalty, alpha, step_rule, smoothness=1.0, eta0=eta0, **options
    )


def weighted_problem(X, Y, w, fit_intercept=True):
    """The centred, weighted problem the estimators hand to the algorithms."""
    if not fit_intercept:
        return LstsqProblem(X, Y, w, None, None)
    return LstsqProblem(
        X, Y, w, np.average(X, axis=0, weights=w), np.average(Y, axis=0, weights=w)
    )


def huber(r, epsilon):
    a = np.abs(r)
    return np.where(a <= epsilon, 0.5 * r**2, epsilon * a - 0.5 * epsilon**2)


def huber_data(seed=0, n=80, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * [1.0, 2.0, 0.5, 1.5] + [3.0, -1.0, 0.0, 2.0]
    y = X @ [1.0, -2.0, 0.5, 0.0] + 0.7 + 0.3 * rng.standard_normal(n)
    y[::9] += 8.0 * rng.choice([-1.0, 1.0], len(y[::9]))  # outliers
    w = rng.uniform(0.5, 2.0, n)
    return X, y[:, None], w


# -- the quadratic objective ----------------------------------------------


@pytest.mark.parametrize("rule", ["auto", "armijo", "constant"])
@pytest.mark.parametrize("k", [1, 2])
def test_quadratic_without_penalty_solves_the_linear_system(rule, k):
    """Without a penalty the minimiser of ½βᵀHβ - βᵀh is H⁻¹h, for each rule."""
    H = spd(6, seed=1)
    h = np.random.default_rng(2).standard_normal((6, k))
    lam = np.linalg.eigvalsh(H)[-1]
    step_rule = {"auto": AutoStep(), "armijo": Armijo(), "constant": ConstantStep()}
    result = solve(QuadraticObjective(H, h, 3.0), step_rule[rule], eta0=1.0 / lam)
    assert_allclose(result.coef, np.linalg.solve(H, h), rtol=0, atol=1e-10)
    assert result.n_iter < 20000
    # The curve records F = f + αR at each iterate: f at the optimum is
    # ½c - ½hᵀH⁻¹h.
    optimum = 1.5 - 0.5 * np.sum(h * np.linalg.solve(H, h))
    assert result.loss_curve[-1] == pytest.approx(optimum, rel=1e-12)
    assert len(result.loss_curve) == result.n_iter


def lasso_problem(seed=0, n=60, d=8):
    """Centred data and their Gram matrix, scaled as Lasso's 1/(2n)‖y - Xw‖²."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ np.diag(rng.uniform(0.5, 2.0, d))
    y = X @ np.array([2.0, -1.5, 0, 0, 1.0, 0, 0, 0.5]) + 0.5 * rng.standard_normal(n)
    Xc, yc = X - X.mean(0), y - y.mean()
    objective = QuadraticObjective(Xc.T @ Xc / n, (Xc.T @ yc / n)[:, None], yc @ yc / n)
    return Xc, yc, objective


@pytest.mark.parametrize("rule", [AutoStep(), Armijo(), ConstantStep()])
@pytest.mark.parametrize(
    ("penalty", "reference"),
    [
        (L1(), Lasso(alpha=0.2, fit_intercept=False, tol=1e-14, max_iter=10**5)),
        (
            ElasticNet(l1_ratio=0.6),
            SkElasticNet(
                alpha=0.4, l1_ratio=0.6, fit_intercept=False, tol=1e-14, max_iter=10**5
            ),
        ),
    ],
    ids=["l1", "elasticnet"],
)
def test_penalised_quadratic_matches_coordinate_descent(penalty, reference, rule):
    """L1 / elastic net on the Gram matrix give scikit-learn's Lasso/ElasticNet
    (ρ‖w‖₁ + (1-ρ)/2‖w‖² scaled as theirs): the same coefficients and zeros."""
    Xc, yc, objective = lasso_problem()
    alpha = reference.alpha
    lam = np.linalg.eigvalsh(objective.H)[-1]
    result = solve(objective, rule, penalty=penalty, alpha=alpha, eta0=1.0 / lam)
    expected = reference.fit(Xc, yc).coef_
    zero = expected == 0
    assert zero.sum() == 3  # the case is non-trivial
    # The zeros are clear: |∇_j f| stays well inside α ρ at the optimum.
    rho = getattr(penalty, "l1_ratio", 1.0)
    gradient = Xc.T @ (Xc @ expected - yc) / len(yc)
    assert np.all(np.abs(gradient[zero]) < 0.9 * alpha * rho)
    assert_allclose(result.coef[:, 0], expected, rtol=0, atol=1e-8)
    assert_array_equal(result.coef[:, 0] == 0, zero)


# -- the loss objective --------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loss_objective_value_and_gradient(fit_intercept):
    """value is the weighted mean Huber loss of the implicitly centred
    predictions (X - μ)β + c, and gradient is its derivative (central
    differences)."""
    X, Y, w = huber_data()
    problem = weighted_problem(X, Y, w, fit_intercept)
    loss = Huber(epsilon=1.0)
    objective, theta0 = regression_objective(problem, loss, fit_intercept=fit_intercept)
    assert isinstance(objective, LossObjective)
    d = X.shape[1]
    assert theta0.shape == (d + fit_intercept, 1)
    assert not np.any(theta0)
    theta = np.random.default_rng(5).standard_normal(theta0.shape)

    def value(t):
        return objective.value(t, objective.forward(t))

    mu = problem.X_offset if fit_intercept else np.zeros(d)
    predictions = (X - mu) @ theta[:d, 0] + (theta[d, 0] if fit_intercept else 0.0)
    expected = np.sum(w * huber(Y[:, 0] - predictions, 1.0)) / np.sum(w)
    assert value(theta) == pytest.approx(expected, rel=1e-13)
    gradient = objective.gradient(theta, objective.forward(theta))
    assert gradient.shape == theta.shape
    numeric = np.zeros_like(theta)
    step = 1e-6
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = step
        numeric[i] = (value(theta + e) - value(theta - e)) / (2 * step)
    assert_allclose(gradient, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("rule", [AutoStep(), Armijo()])
def test_huber_solution_matches_lbfgs(fit_intercept, rule):
    """FISTA on the Huber LossObjective, read back with ``coefficients``,
    minimises the weighted mean Huber loss (scipy's L-BFGS-B as reference)."""
    X, Y, w = huber_data()
    problem = weighted_problem(X, Y, w, fit_intercept)
    objective, theta0 = regression_objective(
        problem, Huber(epsilon=1.0), fit_intercept=fit_intercept
    )
    result = solve(objective, rule, eta0=1.0, theta0=theta0, tol=1e-12)
    coef, intercept = coefficients(result.coef, problem, objective)
    d, v, y = X.shape[1], w / w.sum(), Y[:, 0]

    def fun(params):
        b = params[d] if fit_intercept else 0.0
        r = y - X @ params[:d] - b
        grad_p = -v * np.clip(r, -1.0, 1.0)
        grad = X.T @ grad_p
        if fit_intercept:
            grad = np.append(grad, grad_p.sum())
        return float(v @ huber(r, 1.0)), grad

    reference = scipy.optimize.minimize(
        fun,
        np.zeros(d + fit_intercept),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10000},
    )
    assert_allclose(coef[:, 0], reference.x[:d], rtol=0, atol=1e-6)
    if fit_intercept:
        assert intercept[0] == pytest.approx(reference.x[d], abs=1e-6)
    else:
        assert intercept is None
    # And at the optimum the gradient (in the raw parameters) vanishes.
    params = np.append(coef[:, 0], intercept if fit_intercept else [])
    assert np.linalg.norm(fun(params)[1]) < 1e-9


class _SquaredOnX(SquaredError):
    """The squared loss, evaluated on X (a LossObjective) instead of the Gram."""

    quadratic = False


def test_loss_objective_lasso_with_intercept_and_weights():
    """A LossObjective with an intercept row: the intercept is not penalised,
    and the weighted Lasso is scikit-learn's (sample_weight rescaled)."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((50, 6)) + 2.0, rng.standard_normal(50)
    y += X @ [1.0, 0.0, -2.0, 0.0, 0.0, 0.5]
    w = rng.uniform(0.2, 3.0, 50)
    problem = weighted_problem(X, y[:, None], w)
    objective, theta0 = regression_objective(problem, _SquaredOnX(), fit_intercept=True)
    assert isinstance(objective, LossObjective)
    result = solve(objective, AutoStep(), penalty=L1(), alpha=0.1, theta0=theta0)
    coef, intercept = coefficients(result.coef, problem, objective)
    reference = Lasso(alpha=0.1, tol=1e-14, max_iter=100000).fit(X, y, sample_weight=w)
    assert 1 <= np.sum(reference.coef_ == 0) <= 4
    assert_allclose(coef[:, 0], reference.coef_, rtol=0, atol=1e-8)
    assert_array_equal(coef[:, 0] == 0, reference.coef_ == 0)
    assert intercept[0] == pytest.approx(reference.intercept_, abs=1e-8)


def test_loss_objective_lipschitz_is_the_largest_eigenvalue():
    """lipschitz(scale) is λmax of diag(√s) Xcᵀ V Xc diag(√s), or the
    intercept's own scale when that is larger."""
    X, Y, w = huber_data(n=200)
    X = X * [3.0, 1.0, 1.0, 1.0]  # one dominant direction: a clear eigengap
    problem = weighted_problem(X, Y, w)
    objective, _ = regression_objective(problem, Huber(), fit_intercept=True)
    scale = np.random.default_rng(4).uniform(0.5, 2.0, X.shape[1] + 1)
    root = np.sqrt(scale[:-1])
    A = (X - problem.X_offset) * np.sqrt(w / w.sum())[:, None] * root
    eigenvalues = np.linalg.eigvalsh(A.T @ A)
    assert eigenvalues[-2] < 0.3 * eigenvalues[-1]
    assert eigenvalues[-1] > scale[-1]
    assert objective.lipschitz(scale) == pytest.approx(eigenvalues[-1], rel=1e-6)
    # The intercept's block (curvature 1, times its scale) is decoupled.
    scale[-1] = 10 * eigenvalues[-1]
    assert objective.lipschitz(scale) == scale[-1]


def test_quadratic_lipschitz_and_curvature():
    """QuadraticObjective: λmax of diag(√s) H diag(√s) exactly, the diagonal
    of H as curvature, and excess = ½ dᵀHd."""
    H = spd(5, seed=7, high=30.0)
    objective = QuadraticObjective(H, np.ones((5, 1)), 0.0)
    scale = np.random.default_rng(8).uniform(0.1, 3.0, 5)
    root = np.sqrt(scale)
    expected = np.linalg.eigvalsh(root[:, None] * H * root)[-1]
    assert objective.lipschitz(scale) == pytest.approx(expected, rel=1e-12)
    assert_array_equal(objective.curvature(), np.diag(H))
    diff = np.arange(5.0)[:, None]
    assert objective.excess(diff, H @ diff, 0, 0, 0) == pytest.approx(
        0.5 * diff[:, 0] @ H @ diff[:, 0], rel=1e-14
    )


# -- regression_objective and coefficients --------------------------------


@pytest.mark.parametrize("sparse", [False, True])
def test_squared_loss_uses_the_gram_matrix_and_gives_linear_regression(sparse):
    """The squared loss picks QuadraticObjective on H = AᵀA/W, h = AᵀB/W,
    c = ‖B‖²/W; solved, ``coefficients`` gives LinearRegression's coefficients
    and intercept on the same weighted data."""
    X, Y, w = huber_data(seed=2)
    Xin = sp.csr_matrix(X) if sparse else X
    problem = weighted_problem(X, Y, w)
    if sparse:
        problem = LstsqProblem(Xin, Y, w, problem.X_offset, problem.Y_offset)
    objective, theta0 = regression_objective(
        problem, SquaredError(), fit_intercept=True
    )
    assert isinstance(objective, QuadraticObjective)
    assert theta0.shape == (X.shape[1], 1)
    A = (X - problem.X_offset) * np.sqrt(w)[:, None]
    B = (Y - problem.Y_offset) * np.sqrt(w)[:, None]
    assert_allclose(objective.H, A.T @ A / w.sum(), rtol=1e-12, atol=1e-12)
    assert_allclose(objective.h, A.T @ B / w.sum(), rtol=1e-12, atol=1e-12)
    assert objective.c == pytest.approx(np.sum(B**2) / w.sum(), rel=1e-12)
    result = solve(objective, AutoStep())
    coef, intercept = coefficients(result.coef, problem, objective)
    reference = LinearRegression().fit(X, Y[:, 0], sample_weight=w)
    assert_allclose(coef[:, 0], reference.coef_, rtol=0, atol=1e-9)
    assert intercept[0] == pytest.approx(reference.intercept_, abs=1e-9)


def test_warm_start_round_trips_through_the_intercept_row():
    """A warm start (coef, intercept) becomes θ0 = [β; b + μβ] for a
    LossObjective, and ``coefficients`` maps θ0 back to (coef, intercept);
    the quadratic objective starts from coef alone."""
    X, Y, w = huber_data()
    problem = weighted_problem(X, Y, w)
    coef = np.array([[0.5], [-1.0], [2.0], [0.25]])
    intercept = np.array([1.5])
    objective, theta0 = regression_objective(
        problem, Huber(), fit_intercept=True, coef=coef, intercept=intercept
    )
    assert_allclose(theta0[:4], coef, rtol=0, atol=0)
    assert theta0[4, 0] == pytest.approx(1.5 + problem.X_offset @ coef[:, 0], rel=1e-14)
    back = coefficients(theta0, problem, objective)
    assert_allclose(back[0], coef, rtol=0, atol=0)
    assert_allclose(back[1], intercept, rtol=1e-14)
    # The predictions of θ0 are those of (coef, intercept).
    P = objective.forward(theta0)
    assert_allclose(P[:, 0], X @ coef[:, 0] + 1.5, rtol=1e-13)
    quadratic, beta0 = regression_objective(
        problem, SquaredError(), fit_intercept=True, coef=coef, intercept=intercept
    )
    assert isinstance(quadratic, QuadraticObjective)
    assert_allclose(beta0, coef, rtol=0, atol=0)


@pytest.mark.parametrize("rule", [AutoStep(), ConstantStep()])
def test_constant_column_is_frozen_at_zero(rule):
    """A column that is constant (only rounding noise after centring) keeps a
    zero coefficient, the minimum-norm choice; the others are least squares."""
    X, Y, w = huber_data(seed=4)
    # Centred, the constant leaves a spread of rounding noise only (~1e-24).
    X = np.column_stack([X[:, :2], np.full(len(X), 12345.678), X[:, 2:]])
    problem = weighted_problem(X, Y, w)
    loss = Huber(epsilon=1e3)  # quadratic on every residual: least squares
    objective, theta0 = regression_objective(problem, loss, fit_intercept=True)
    assert 0 < objective.curvatures[2] < 1e-20
    assert_array_equal(objective.constant_columns(), [False, False, True, False, False])
    lipschitz = objective.lipschitz(np.ones(len(theta0)))
    result = solve(objective, rule, eta0=1.0 / lipschitz, theta0=theta0, tol=1e-12)
    coef, intercept = coefficients(result.coef, problem, objective)
    assert coef[2, 0] == 0.0
    keep = [0, 1, 3, 4]
    reference = LinearRegression().fit(X[:, keep], Y[:, 0], sample_weight=w)
    assert_allclose(coef[keep, 0], reference.coef_, rtol=0, atol=1e-8)
    assert intercept[0] == pytest.approx(reference.intercept_, abs=1e-8)


def test_step_rule_without_optional_attributes_is_a_constant_step():
    """The optional StepSize attributes default to backtrack=False, grow=1 and
    precondition=False: a rule with only ``initial`` runs as ConstantStep."""

    class Bare:
        def initial(self, lipschitz, eta0):
            return eta0

    class Backtracking(Bare):
        backtrack = True

    H = spd(4, seed=9)
    objective = QuadraticObjective(H, np.ones((4, 1)), 100.0)
    # Above 1/L the sufficient-decrease test fails: backtracking would halve.
    eta0 = 1.5 / np.linalg.eigvalsh(H)[-1]
    runs = {}
    for rule in [Bare(), ConstantStep(), Backtracking()]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            runs[type(rule)] = solve(objective, rule, eta0=eta0, max_iter=3)
    bare, constant = runs[Bare], runs[ConstantStep]
    assert bare.step == constant.step == eta0
    assert bare.loss_curve == constant.loss_curve
    assert_array_equal(bare.coef, constant.coef)
    assert runs[Backtracking].step < eta0
    # Preconditioning changes the path (the diagonal of H is not constant).
    auto = solve(objective, AutoStep(), eta0=eta0, max_iter=20, tol=1e-3)
    assert auto.loss_curve[0] != constant.loss_curve[0]


def test_momentum_accelerates_on_an_ill_conditioned_quadratic():
    """Condition number 1e4: plain gradient descent needs ~κ·log(1/tol) ≈ 1.4e5
    iterations for tol=1e-6, FISTA ~√κ·log(1/tol) (757 here)."""
    H = spd(6, seed=16, low=1e-4, high=1.0)
    h = np.ones((6, 1))
    result = solve(QuadraticObjective(H, h, 0.0), ConstantStep(), eta0=1.0, tol=1e-6)
    assert result.n_iter < 2000
    assert_allclose(result.coef, np.linalg.solve(H, h), rtol=1e-4)


def test_momentum_survives_to_tight_tolerances():
    """The same problem to tol=1e-8: still √κ-like, a few thousand iterations."""
    H = spd(6, seed=16, low=1e-4, high=1.0)
    h = np.ones((6, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = solve(
            QuadraticObjective(H, h, 0.0),
            ConstantStep(),
            eta0=1.0,
            tol=1e-8,
            max_iter=3000,
        )
    assert result.n_iter < 3000


# -- stopping and divergence ---------------------------------------------


def test_too_large_constant_step_raises_divergence():
    """Ten times the safe step 1/λmax explodes: DivergenceError names it."""
    H = spd(5, seed=10)
    lam = np.linalg.eigvalsh(H)[-1]
    with pytest.raises(DivergenceError, match=r"diverged at iteration .*safe step"):
        solve(
            QuadraticObjective(H, np.ones((5, 1)), 0.0), ConstantStep(), eta0=10 / lam
        )


def test_max_iter_too_small_warns():
    """Stopping at max_iter before tol warns (ConvergenceWarning)."""
    H = spd(8, seed=11, high=1000.0)
    objective = QuadraticObjective(H, np.ones((8, 1)), 0.0)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        result = solve(objective, AutoStep(), max_iter=3, tol=1e-12)
    assert result.n_iter == 3


@pytest.mark.parametrize("rule", [AutoStep(), ConstantStep()])
def test_tolerance_is_relative_to_the_start(rule):
    """tol is relative to the gradient mapping at θ = 0: scaling H and h by c
    (same optimum) or h alone (optimum times c) changes neither the number of
    iterations nor the relative accuracy."""
    H = spd(6, seed=14, high=100.0)
    h = np.random.default_rng(15).standard_normal((6, 1))
    lam = np.linalg.eigvalsh(H)[-1]
    runs = {}
    for c_H, c_h in [(1.0, 1.0), (1e6, 1e6), (1e-6, 1e-6), (1.0, 1e6), (1.0, 1e-6)]:
        objective = QuadraticObjective(c_H * H, c_h * h, 0.0)
        result = solve(objective, rule, eta0=1.0 / (c_H * lam), tol=1e-6)
        expected = np.linalg.solve(H, h) * c_h / c_H
        error = np.linalg.norm(result.coef - expected) / np.linalg.norm(expected)
        assert 1e-12 < error < 1e-4  # tol=1e-6 is loose: it stops early
        runs[c_H, c_h] = result.n_iter
    assert len(set(runs.values())) == 1, runs


def test_warm_start_at_the_optimum_stops_at_once():
    """θ0 = the optimum: the first gradient mapping is already below tol times
    its value at 0, so the solver stops after one iteration."""
    H = spd(6, seed=12)
    h = np.random.default_rng(13).standard_normal((6, 2))
    optimum = np.linalg.solve(H, h)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = solve(
            QuadraticObjective(H, h, 0.0), AutoStep(), theta0=optimum, tol=1e-8
        )
    assert result.n_iter == 1
    assert_allclose(result.coef, optimum, rtol=0, atol=1e-12)
