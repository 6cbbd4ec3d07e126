"""SGD's compiled inner loop (numba, optional) against the Python/BLAS path.

The two paths run the same updates in a different order of rounding: fits
agree to ~1e-10 in float64 and ~1e-5 in float32.  The compiled path is also
checked against per-sample SGD written out in numpy, and the switches --
``ENABLED``, ``SKLA_DISABLE_NUMBA``, the load policy -- are checked without
numba.  Tests of the compiled path skip where numba is not installed.
"""

import functools
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skla import SGDMiniBatchRegressor
from skla._algorithms import compiled, compiled_loops
from skla._algorithms.minibatch import MiniBatchSGD
from skla._algorithms.windows import epoch_windows
from skla.components.losses import SquaredError
from skla.components.penalties import L2
from skla.components.schedules import Constant


@pytest.fixture
def compiled_path(monkeypatch):
    """Run the fast path compiled from the first epoch; count its calls."""
    pytest.importorskip("numba")
    monkeypatch.setattr(compiled, "ENABLED", True)
    monkeypatch.setattr(compiled, "LOAD_AFTER", 0)
    calls = []
    loop = compiled_loops.squared_updates

    def counted(X, rows, *args):
        calls.append(len(rows))  # 0: a gathered window, else rows of X
        return loop(X, rows, *args)

    monkeypatch.setattr(compiled_loops, "squared_updates", counted)
    return calls


def python_path(monkeypatch):
    monkeypatch.setattr(compiled, "ENABLED", False)


def data(n=300, d=5, seed=0, dtype=np.float64):
    """Raw data: offset, unequal scales (``"auto"`` standardises them)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 3, d) + 2.0
    y = X @ rng.standard_normal(d) + 0.5 + 0.1 * rng.standard_normal(n)
    w = rng.uniform(0.2, 2.0, n)
    return X.astype(dtype), y.astype(dtype), w.astype(dtype)


def fit(X, y, w, **params):
    model = SGDMiniBatchRegressor(max_iter=4, tol=None, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few epochs, not to convergence
        return model.fit(X, y, sample_weight=w)


CASES = {
    "auto (per-coefficient ridge)": {},
    "auto, no intercept": {"fit_intercept": False},
    "auto, no penalty": {"penalty": None},
    "invscaling": {"learning_rate": "invscaling", "eta0": 1e-3},
    "constant, average 50": {"learning_rate": "constant", "eta0": 1e-3, "average": 50},
    "optimal, averaged, no intercept": {
        "learning_rate": "optimal",
        "alpha": 0.1,
        "average": True,
        "fit_intercept": False,
    },
    "adaptive, no penalty": {
        "learning_rate": "adaptive",
        "eta0": 1e-3,
        "penalty": None,
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("batch_size", [1, 7, 32, 300])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    ("dtype", "rtol"), [(np.float64, 1e-10), (np.float32, 1e-5)], ids=["f64", "f32"]
)
def test_compiled_matches_python(
    compiled_path, monkeypatch, case, batch_size, weighted, dtype, rtol
):
    X, y, w = data(dtype=dtype)
    w = w if weighted else None
    params = {"batch_size": batch_size, **CASES[case]}
    fast = fit(X, y, w, **params)
    assert compiled_path, "the compiled loop did not run"
    python_path(monkeypatch)
    slow = fit(X, y, w, **params)
    scale = np.max(np.abs(slow.coef_))
    assert_allclose(fast.coef_, slow.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(fast.intercept_, slow.intercept_, rtol=rtol, atol=rtol * scale)
    assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=rtol)
    assert fast.coef_.dtype == slow.coef_.dtype == dtype
    assert fast.n_iter_ == slow.n_iter_


def per_sample_sgd(X, y, w, order, eta, alpha, intercept=0.0):
    """Per-sample ridge SGD written out: β ← (β - η wᵢ rᵢ xᵢ) / (1 + ηα)."""
    coef, iterates = np.zeros(X.shape[1]), []
    for i in order:
        r = X[i] @ coef + intercept - y[i]
        g = w[i] * r
        coef = (coef - eta * g * X[i]) / (1.0 + eta * alpha)
        intercept -= eta * g
        iterates.append(np.append(coef, intercept))
    return np.array(iterates)


@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_size_one_is_per_sample_sgd(compiled_path, shuffle):
    """batch_size=1, constant step: per-sample SGD in epoch_windows' order;
    shuffled windows after the first are read in place from X (rows)."""
    X, y, w = data(n=3000, d=200, seed=3)  # 1600-byte rows: 3 windows
    eta, alpha = 2e-4, 0.01
    engine = MiniBatchSGD(
        np.zeros((200, 1)),
        np.zeros(1),
        loss=SquaredError(),
        penalty=L2(),
        schedule=Constant(eta),
        alpha=alpha,
        fit_intercept=True,
        batch_size=1,
        average_start=1,
    )
    rng = np.random.default_rng(5) if shuffle else None
    engine.epoch(X, y[:, None], w, rng=rng)
    windows = epoch_windows(
        3000, 1, row_bytes=1600, rng=np.random.default_rng(5) if shuffle else None
    )
    order = np.concatenate([np.arange(3000)[window] for window in windows])
    iterates = per_sample_sgd(X, y, w, order, eta, alpha)
    assert engine.max_eta > eta  # the cap played no part
    tol = {"rtol": 1e-10, "atol": 1e-10 * np.max(np.abs(iterates[-1]))}
    assert_allclose(engine.coef[:, 0], iterates[-1, :-1], **tol)
    assert_allclose(engine.intercept[0], iterates[-1, -1], **tol)
    coef, intercept = engine.averaged()
    assert_allclose(coef[:, 0], iterates[:, :-1].mean(0), **tol)
    assert_allclose(intercept[0], iterates[:, -1].mean(), **tol)
    assert (max(compiled_path) > 0) == shuffle  # rows of X read in place


def test_partial_fit_and_sparse_and_two_targets_agree(compiled_path, monkeypatch):
    """partial_fit runs compiled too; sparse X and two targets (the generic
    path) are untouched."""
    import scipy.sparse as sp

    X, y, _ = data()
    Y = np.column_stack([y, -y])
    runs = [
        lambda: SGDMiniBatchRegressor(batch_size=4, random_state=0).partial_fit(X, y),
        lambda: fit(sp.csr_matrix(X), y, None, batch_size=4),
        lambda: fit(X, Y, None, batch_size=4),
    ]
    fast = [run().coef_ for run in runs]
    assert len(compiled_path) > 0
    python_path(monkeypatch)
    for a, run in zip(fast, runs, strict=True):
        assert_allclose(a, run().coef_, rtol=1e-10, atol=1e-12)


def test_load_policy(monkeypatch):
    """numba is loaded once the fast-path updates asked for reach LOAD_AFTER,
    then used for every epoch; never when disabled."""
    loaded = []

    @functools.cache
    def load():
        loaded.append(True)
        return compiled_loops

    monkeypatch.setattr(compiled, "_load", load)
    monkeypatch.setattr(compiled, "_asked", {"updates": 0})
    monkeypatch.setattr(compiled, "LOAD_AFTER", 100)
    monkeypatch.setattr(compiled, "ENABLED", True)
    assert not compiled.use(60)
    assert not loaded
    assert compiled.loops() is None
    assert compiled.use(60)
    assert compiled.use(1)
    assert loaded == [True]
    assert compiled.loops() is compiled_loops
    monkeypatch.setattr(compiled, "ENABLED", False)
    assert not compiled.use(10**9)
    assert compiled.loops() is None


def test_cache_falls_back_where_no_cache_can_be_written(monkeypatch):
    """Where numba finds no writable cache directory (njit(cache=True)
    raises), the loops are compiled uncached."""

    class FakeNumba:
        @staticmethod
        def njit(cache, **options):
            if cache:
                raise RuntimeError("cannot cache function: no locator available")
            return lambda function: ("uncached", function, options)

    monkeypatch.setattr(compiled_loops, "numba", FakeNumba)
    compiled_function = compiled_loops._compiled(len)
    assert compiled_function[:2] == ("uncached", len)
    assert compiled_function[2]["fastmath"] == {"reassoc"}


def _run(code, **env):
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


FIT = (
    "import numpy as np, sys, warnings; warnings.simplefilter('ignore'); "
    "from skla import SGDMiniBatchRegressor; "
    "X = np.random.default_rng(0).standard_normal((200, 3)); "
    "SGDMiniBatchRegressor(batch_size=1, max_iter=2).fit(X, X.sum(1)); "
)


def test_import_skla_does_not_import_numba():
    _run("import skla, sys; assert 'numba' not in sys.modules, 'numba imported'")


def test_small_fit_does_not_load_numba():
    _run(FIT + "assert 'numba' not in sys.modules", SKLA_DISABLE_NUMBA="")


def test_disable_numba_environment_variable():
    code = "import skla._algorithms.compiled as c; c.LOAD_AFTER = 0; "
    _run(code + FIT + "assert 'numba' not in sys.modules", SKLA_DISABLE_NUMBA="1")


def test_large_fits_load_numba():
    pytest.importorskip("numba")
    code = "import skla._algorithms.compiled as c; c.LOAD_AFTER = 0; "
    _run(code + FIT + "assert 'numba' in sys.modules", SKLA_DISABLE_NUMBA="")
