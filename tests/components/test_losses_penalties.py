"""Losses, penalties and step-size rules: calculus checked numerically."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import skla
from skla.components.losses import Loss
from skla.components.penalties import Penalty
from skla.components.step_sizes import StepSize

LOSSES = skla.names("loss")
PENALTIES = skla.names("penalty")


def test_registered_names():
    assert LOSSES == (
        "epsilon_insensitive",
        "huber",
        "rmse",
        "squared_epsilon_insensitive",
        "squared_error",
    )
    assert PENALTIES == ("elasticnet", "l1", "l2")
    assert skla.names("step_size") == ("armijo", "auto", "constant")


def loss_data(seed=0, n=30, k=2):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((n, k))
    # Residuals away from the kinks at 0 and ±epsilon (= 0.3 below).
    r = rng.choice([-1, 1], (n, k)) * rng.uniform(0.4, 2.0, (n, k))
    r[: n // 3] *= 0.1  # some inside the tube / quadratic zone
    r[: n // 3] = np.clip(r[: n // 3], -0.2, 0.2)
    r[np.abs(r) < 0.05] = 0.1
    w = rng.uniform(0.5, 2.0, n)
    return y, y - r, w / w.sum()


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradient_matches_finite_differences(name):
    loss = skla.resolve("loss", name, param="loss", epsilon=0.3)
    assert isinstance(loss, Loss)
    y, p, w = loss_data()
    grad = loss.gradient(y, p, w)
    assert grad.shape == p.shape
    h = 1e-6
    numeric = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        e = np.zeros_like(p)
        e[idx] = h
        numeric[idx] = (loss.value(y, p + e, w) - loss.value(y, p - e, w)) / (2 * h)
    assert_allclose(grad, numeric, rtol=1e-5, atol=1e-9)


SMOOTH_LOSSES = [
    name
    for name in LOSSES
    if skla.resolve("loss", name, param="loss").smoothness is not None
]


def test_which_losses_are_smooth():
    assert SMOOTH_LOSSES == ["huber", "squared_epsilon_insensitive", "squared_error"]


@pytest.mark.parametrize("name", SMOOTH_LOSSES)
def test_loss_smoothness_bounds_the_gradient_change(name):
    loss = skla.resolve("loss", name, param="loss", epsilon=0.3)
    y, p, w = loss_data()
    rng = np.random.default_rng(1)
    for _ in range(20):
        q = p + rng.standard_normal(p.shape)
        change = np.abs(loss.gradient(y, q, w) - loss.gradient(y, p, w))
        assert np.all(change <= loss.smoothness * w[:, None] * np.abs(q - p) + 1e-12)


def test_losses_match_their_formulas():
    y = np.array([[2.0], [-1.0]])
    p = np.array([[0.0], [0.0]])
    w = np.array([0.5, 0.5])
    get = lambda name: skla.resolve("loss", name, param="loss", epsilon=0.5)  # noqa: E731
    assert get("squared_error").value(y, p, w) == pytest.approx(0.5 * (4 + 1) / 2)
    assert get("huber").value(y, p, w) == pytest.approx(
        0.5 * (0.5 * 2 - 0.125) + 0.5 * (0.5 * 1 - 0.125)
    )
    assert get("epsilon_insensitive").value(y, p, w) == pytest.approx(0.5 * 1.5 + 0.25)
    assert get("squared_epsilon_insensitive").value(y, p, w) == pytest.approx(
        0.5 * 2.25 + 0.5 * 0.25
    )
    assert get("rmse").value(y, p, w) == pytest.approx(np.sqrt(2.5))


def test_rmse_gradient_is_zero_at_an_exact_fit():
    y = np.ones((4, 1))
    grad = skla.resolve("loss", "rmse", param="loss").gradient(y, y, np.full(4, 0.25))
    assert np.all(grad == 0)


@pytest.mark.parametrize("name", PENALTIES)
@pytest.mark.parametrize("step", [0.7, "array"])
def test_prox_is_the_minimiser(name, step):
    penalty = skla.resolve("penalty", name, param="penalty", l1_ratio=0.4)
    assert isinstance(penalty, Penalty)
    rng = np.random.default_rng(0)
    v = rng.standard_normal((6, 2)) * 2
    t = rng.uniform(0.2, 1.5, (6, 1)) if step == "array" else step
    w = penalty.prox(v, t)

    def objective(z):
        return 0.5 * np.sum((z - v) ** 2 / t) + penalty.value(z)

    # Separable: check each coefficient's scalar problem against a fine grid.
    base = objective(w)
    for _ in range(200):
        z = w + rng.standard_normal(w.shape) * rng.choice([1e-3, 1e-1, 1.0])
        assert objective(z) >= base - 1e-12
    # Subgradient condition: 0 ∈ (w - v)/t + ∂R(w).
    residual = (v - w) / np.broadcast_to(t, v.shape)
    rho = {"l1": 1.0, "l2": 0.0, "elasticnet": 0.4}[name]
    smooth_part = (1 - rho) * w
    nonzero = w != 0
    assert_allclose(
        residual[nonzero], smooth_part[nonzero] + rho * np.sign(w[nonzero]), atol=1e-12
    )
    assert np.all(np.abs(residual[~nonzero]) <= rho + 1e-12)


def test_l1_prox_gives_exact_zeros():
    w = skla.resolve("penalty", "l1", param="penalty").prox(np.array([0.3, -2.0]), 0.5)
    assert w[0] == 0.0
    assert w[1] == -1.5


def test_resolve_offers_shape_parameters_to_factories_that_take_them():
    huber = skla.resolve("loss", "huber", param="loss", epsilon=0.5, l1_ratio=0.2)
    assert huber.epsilon == 0.5
    l2 = skla.resolve("penalty", "l2", param="penalty", l1_ratio=0.9)
    assert l2.get_params() == {}
    enet = skla.resolve("penalty", "elasticnet", param="penalty", l1_ratio=0.9)
    assert enet.l1_ratio == 0.9


@pytest.mark.parametrize("name", ["auto", "armijo", "constant"])
def test_step_rules(name):
    rule = skla.resolve("step_size", name, param="learning_rate")
    assert isinstance(rule, StepSize)
    first = rule.initial(4.0, eta0=0.1)
    assert first == {"auto": 0.25, "armijo": 0.1, "constant": 0.1}[name]
    assert rule.initial(None, eta0=0.1) == 0.1
