"""Learning-rate schedules and step-size rules against their formulas.

The rates are checked against the formulas written out here and, for the
schedules scikit-learn also has, against what SGDRegressor does.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import SGDRegressor

from skla.components.schedules import (
    Adaptive,
    Auto,
    Constant,
    InvScaling,
    Optimal,
    Schedule,
)
from skla.components.step_sizes import Armijo, AutoStep, ConstantStep, StepSize

# -- schedules ---------------------------------------------------------------


def test_constant_and_invscaling_rates():
    """Constant: η₀ for every update; InvScaling: η₀ / t^p for t, t+1, ..."""
    assert_array_equal(Constant(0.3).rates(7, 4), np.full(4, 0.3))
    rates = InvScaling(eta0=0.5, power_t=0.3).rates(5, 6)
    assert_allclose(rates, 0.5 / np.arange(5, 11) ** 0.3, rtol=1e-15)
    assert all(isinstance(s, Schedule) for s in [Constant(), InvScaling()])


def sgd_first_step(learning_rate, **params):
    """SGDRegressor's first step: one update on x = 1, y = 1 from coef = 0,
    no penalty and no intercept, leaves coef = η₁ · (y - 0) · x = η₁."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=1: ConvergenceWarning
        model = SGDRegressor(
            learning_rate=learning_rate,
            penalty=None,
            fit_intercept=False,
            max_iter=1,
            tol=None,
            shuffle=False,
            **params,
        ).fit(np.ones((1, 1)), np.ones(1))
    return float(model.coef_[0])


def test_invscaling_first_step_is_sgdregressors():
    """t counts from 1 as in SGDRegressor: the first step is η₀ / 1^p = η₀."""
    eta1 = sgd_first_step("invscaling", eta0=0.37, power_t=0.6)
    assert InvScaling(eta0=0.37, power_t=0.6).rates(1, 1)[0] == pytest.approx(
        eta1, rel=1e-12
    )


@pytest.mark.parametrize("alpha", [1.0, 0.01, 1e-4])
def test_optimal_follows_bottous_rule(alpha):
    """1/η_t = α (t + t₀) grows by α per update, with scikit-learn's t₀ =
    1 / (α · η_init): typw = sqrt(1/sqrt(α)) and, for the squared loss,
    η_init = typw / max(1, dloss(-typw, 1)) = typw, SGDRegressor's first step.
    (That update 1 takes η_init is the test below.)"""
    typw = np.sqrt(1.0 / np.sqrt(alpha))
    dloss = -typw - 1.0  # the squared loss's dloss(p, y) = p - y
    eta_init = typw / max(1.0, dloss)
    assert sgd_first_step("optimal", alpha=alpha) == pytest.approx(eta_init, rel=1e-12)
    t0 = 1.0 / (alpha * eta_init)
    inverse = 1.0 / Optimal(alpha).rates(3, 6)
    assert_allclose(np.diff(inverse), alpha, rtol=1e-9)
    offset = inverse[0] / alpha - 3  # t₀, or t₀ - 1 counting from 0 as sklearn
    assert offset == pytest.approx(t0, rel=1e-12) or offset == pytest.approx(
        t0 - 1, rel=1e-12
    )


@pytest.mark.parametrize("alpha", [1.0, 0.01])
def test_optimal_first_step_is_sgdregressors(alpha):
    """The first step of 'optimal' is α^(-1/4), SGDRegressor's."""
    eta1 = sgd_first_step("optimal", alpha=alpha)
    assert Optimal(alpha).rates(1, 1)[0] == pytest.approx(eta1, rel=1e-12)


def test_optimal_needs_a_positive_alpha():
    with pytest.raises(ValueError, match="alpha > 0"):
        Optimal(0.0).rates(1, 1)


def test_adaptive_divides_by_five_until_min_eta():
    """Adaptive: η₀ until a plateau, then η/5 per plateau while η > min_eta;
    at or below min_eta, plateau says stop (False) and η stays."""
    schedule = Adaptive(eta0=1.0, min_eta=0.01)
    assert_array_equal(schedule.rates(1, 3), [1.0, 1.0, 1.0])
    expected = 1.0
    for _ in range(3):
        assert schedule.plateau() is True
        expected /= 5.0
        assert schedule.rates(10, 2) == pytest.approx([expected] * 2, rel=1e-15)
    assert expected <= 0.01  # 0.008
    assert schedule.plateau() is False
    assert schedule.rates(20, 1)[0] == pytest.approx(0.008, rel=1e-15)
    # At exactly min_eta: stop (25 / 5 / 5 = 1 exactly).
    exact = Adaptive(eta0=25.0, min_eta=1.0)
    assert exact.plateau() is True
    assert exact.plateau() is True
    assert exact.rates(1, 1)[0] == 1.0
    assert exact.plateau() is False
    # A plateau before any rate was asked for divides eta0.
    fresh = Adaptive(eta0=0.5)
    assert fresh.plateau() is True
    assert fresh.rates(1, 1)[0] == pytest.approx(0.1, rel=1e-15)


def test_auto_needs_calibration():
    """Auto's rates before calibrate: a clear error that names calibrate."""
    with pytest.raises(RuntimeError, match=r"calibrate\(step"):
        Auto().rates(1, 1)
    assert Auto.preconditioned is True


def test_auto_smooth_is_constant_and_halves_at_plateaus():
    """Smooth losses: factor · step for every update; each plateau halves it
    (stochastic updates), up to 10 plateaus, then plateau says stop."""
    schedule = Auto(factor=0.8)
    schedule.calibrate(0.5, period=10, smooth=True)
    assert_allclose(schedule.rates(1, 25), np.full(25, 0.4), rtol=1e-15)
    for i in range(1, 11):
        assert schedule.plateau() is True
        assert schedule.rates(100, 1)[0] == pytest.approx(0.4 / 2**i, rel=1e-15)
    assert schedule.plateau() is False
    # Full-batch updates (period 1) have no noise: the step stays.
    full = Auto()
    full.calibrate(0.5, period=1, smooth=True)
    assert full.plateau() is True
    assert full.rates(5, 1)[0] == 0.5
    # Calibrating again starts over.
    schedule.calibrate(0.5, period=10, smooth=True)
    assert schedule.rates(1, 1)[0] == pytest.approx(0.4, rel=1e-15)
    assert schedule.plateau() is True


def test_auto_non_smooth_decays_as_inverse_sqrt_epoch():
    """Without a curvature bound: factor · step / sqrt(epoch), epoch =
    (t - 1) // period + 1."""
    schedule = Auto(factor=2.0)
    schedule.calibrate(0.25, period=4, smooth=False)
    t = np.arange(3, 23)
    expected = 0.5 / np.sqrt((t - 1) // 4 + 1)
    assert_allclose(schedule.rates(3, 20), expected, rtol=1e-15)
    assert schedule.plateau() is True
    assert_allclose(schedule.rates(3, 20), expected / 2, rtol=1e-15)


# -- step sizes ---------------------------------------------------------------


def test_auto_step_is_inverse_lipschitz():
    """AutoStep: 1/L, or eta0 when the loss is not smooth (L None)."""
    assert AutoStep().initial(8.0, eta0=0.3) == 0.125
    assert AutoStep().initial(None, eta0=0.3) == 0.3


@pytest.mark.parametrize("lipschitz", [None, 8.0])
def test_armijo_and_constant_start_from_eta0(lipschitz):
    """Armijo and ConstantStep start from eta0 whatever L is."""
    assert Armijo().initial(lipschitz, eta0=0.3) == 0.3
    assert ConstantStep().initial(lipschitz, eta0=0.3) == 0.3


@pytest.mark.parametrize(
    ("rule", "backtrack", "grow", "precondition"),
    [
        (AutoStep(), True, 1.0, True),
        (Armijo(), True, 1.0, True),
        (Armijo(grow=1.5), True, 1.5, True),
        (ConstantStep(), False, 1.0, False),
    ],
)
def test_step_size_optional_attributes(rule, backtrack, grow, precondition):
    """The optional attributes the StepSize protocol lists (backtrack, grow,
    precondition), as each built-in rule documents them."""
    assert isinstance(rule, StepSize)
    assert rule.backtrack is backtrack
    assert rule.grow == grow
    assert rule.precondition is precondition
    assert rule.get_params() == ({"grow": grow} if isinstance(rule, Armijo) else {})
