"""The sample-weight conventions written in ``skla.linear_model._base``."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_regression
from sklearn.linear_model import Lasso, Ridge

from skla import GDRegressor, PinvRegressor, SGDMiniBatchRegressor


@pytest.fixture(scope="module")
def weighted():
    X, y = make_regression(300, 3, noise=5, random_state=0)
    return X, y, np.random.default_rng(0).uniform(0.5, 2, 300)


def test_pinv_weights_are_ridges_repetitions(weighted):
    X, y, w = weighted
    reg = PinvRegressor(alpha=50.0).fit(X, y, sample_weight=w)
    assert_allclose(reg.coef_, Ridge(alpha=50.0).fit(X, y, sample_weight=w).coef_)
    tripled = PinvRegressor(alpha=50.0).fit(X, y, sample_weight=3 * w)
    assert not np.allclose(tripled.coef_, reg.coef_, rtol=1e-3)  # a weaker ridge
    free = PinvRegressor().fit(X, y, sample_weight=w)
    assert_allclose(PinvRegressor().fit(X, y, sample_weight=3 * w).coef_, free.coef_)


def test_gd_weights_are_a_weighted_mean(weighted):
    X, y, w = weighted
    params = {"penalty": "l1", "alpha": 1.0, "tol": 1e-12, "max_iter": 100000}
    reg = GDRegressor(**params).fit(X, y, sample_weight=w)
    tripled = GDRegressor(**params).fit(X, y, sample_weight=3 * w)
    assert_allclose(tripled.coef_, reg.coef_, rtol=1e-10)
    lasso = Lasso(alpha=1.0, tol=1e-12, max_iter=100000).fit(X, y, sample_weight=w)
    assert_allclose(reg.coef_, lasso.coef_, rtol=1e-6)


def test_sgd_weights_scale_the_loss_not_the_penalty(weighted):
    X, y, w = weighted
    params = {"alpha": 0.1, "random_state": 0, "tol": 1e-6}
    reg = SGDMiniBatchRegressor(**params).fit(X, y, sample_weight=w)
    tripled = SGDMiniBatchRegressor(**params).fit(X, y, sample_weight=3 * w)
    # Σ wℓ / n + α R: tripling w is dividing α by 3 (Ridge's alpha · n / 3).
    weaker = Ridge(alpha=0.1 * 300 / 3).fit(X, y, sample_weight=w)
    assert_allclose(tripled.coef_, weaker.coef_, rtol=0.01)
    assert not np.allclose(tripled.coef_, reg.coef_, rtol=0.01)
