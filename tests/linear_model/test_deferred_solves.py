"""GDRegressor.partial_fit solves when the coefficients are read (issue 25)."""

import copy
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skla import GDRegressor
from skla.exceptions import DivergenceError


def data(n=2000, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d) + 5.0
    return X, X @ rng.standard_normal(d) + 2.0 + rng.standard_normal(n)


def chunks(X, y, parts=5):
    return [(X[r], y[r]) for r in np.array_split(np.arange(len(X)), parts)]


def count_solves(monkeypatch):
    calls = []
    real = GDRegressor._solve

    def spy(self, *args):
        calls.append(1)
        return real(self, *args)

    monkeypatch.setattr(GDRegressor, "_solve", spy)
    return calls


def test_a_stream_solves_once_when_read(monkeypatch):
    X, y = data()
    solves = count_solves(monkeypatch)
    model = GDRegressor(penalty="l1", alpha=0.05, tol=1e-10)
    for Xc, yc in chunks(X, y):
        model.partial_fit(Xc, yc)
    assert solves == []
    assert "coef_" not in vars(model)
    full = GDRegressor(penalty="l1", alpha=0.05, tol=1e-10).fit(X, y)
    assert_allclose(model.predict(X), full.predict(X), rtol=1e-8)
    assert len(solves) == 2  # the stream's one, and fit's
    assert model.n_iter_ > 0
    assert len(model.loss_curve_) == model.n_iter_
    assert_allclose(model.coef_, full.coef_, atol=1e-8)
    assert len(solves) == 2  # read once, kept


def test_a_read_between_chunks_warm_starts_the_next_solve():
    X, y = data()
    parts = chunks(X, y)
    cold, warm = GDRegressor(tol=1e-10), GDRegressor(tol=1e-10)
    for Xc, yc in parts:
        cold.partial_fit(Xc, yc)
        warm.partial_fit(Xc, yc)
        warm.coef_  # noqa: B018 (read: solved, the next solve starts here)
    assert_allclose(warm.coef_, cold.coef_, atol=1e-7)
    assert warm.n_iter_ < cold.n_iter_


def test_a_divergence_is_raised_at_every_read_and_fit_starts_over():
    X, y = data()
    X[:, 0] *= 100
    model = GDRegressor(learning_rate="constant", eta0=1.0)
    model.partial_fit(X, y)  # folds the rows: no solve yet
    for _ in range(2):
        with pytest.raises(DivergenceError, match="step size"):
            model.predict(X)
    model.set_params(learning_rate="auto").fit(X, y)  # no pending solve left
    assert np.isfinite(model.predict(X)).all()


def test_copies_and_pickles_of_a_pending_stream_are_independent():
    X, y = data()
    model = GDRegressor(tol=1e-10).partial_fit(X, y)
    twin = copy.deepcopy(model)  # copies solve first, as pickles do
    restored = pickle.loads(pickle.dumps(model))
    for copied in (model, twin, restored):
        assert "coef_" in vars(copied)
        assert "_deferred" not in vars(copied)
    assert_array_equal(twin.coef_, model.coef_)
    assert_array_equal(restored.coef_, model.coef_)
    before = model.coef_.copy()
    twin.partial_fit(X[:100], y[:100])  # the copy's stream goes on alone
    assert "coef_" not in vars(twin)
    assert not np.array_equal(twin.coef_, before)
    assert_array_equal(model.coef_, before)


def test_a_pinv_stream_solves_when_read_but_gram_warns_at_once(monkeypatch):
    from skla import PinvRegressor
    from skla._algorithms import least_squares
    from skla.linear_model import _pinv

    X, y = data()
    solves = []
    real = least_squares.solve_statistics

    def spy(*args, **kwargs):
        solves.append(kwargs["how"])
        return real(*args, **kwargs)

    monkeypatch.setattr(_pinv, "solve_statistics", spy)
    streamed = PinvRegressor()
    for Xc, yc in chunks(X, y):
        streamed.partial_fit(Xc, yc)
    assert solves == []
    assert streamed.n_features_in_ == X.shape[1]  # set by each call
    full = PinvRegressor().fit(X, y)
    assert_allclose(streamed.coef_, full.coef_, rtol=1e-10)
    assert streamed.solver_used_ == "qr (streamed)"
    assert_allclose(streamed.singular_values_, full.singular_values_, rtol=1e-10)
    assert solves == ["streamed"]
    gram = PinvRegressor(solver="gram")
    for Xc, yc in chunks(X, y, parts=2):
        gram.partial_fit(Xc, yc)
    assert solves == ["streamed"] * 3  # one per call: its diagnosis is the call's


def test_a_deferred_solve_uses_the_parameters_of_its_call():
    X, y = data()
    model = GDRegressor(penalty="l1", alpha=0.05, tol=1e-10).partial_fit(X, y)
    model.set_params(alpha=100.0, max_iter=1)  # after the call: not this fit
    full = GDRegressor(penalty="l1", alpha=0.05, tol=1e-10).fit(X, y)
    assert_allclose(model.coef_, full.coef_, atol=1e-8)
