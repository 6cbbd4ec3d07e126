"""Direct tests of the mini-batch SGD engine and its parts: windows, kernels,
iterate averaging, curvature, the optimality check and the epoch loop.

The engine's updates are checked against hand-written gradient steps, the
curvatures against ``np.linalg.eigvalsh``, optima against numpy/scikit-learn
solutions.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

from skla._algorithms.averaging import IterateAverage
from skla._algorithms.convergence import OptimalityCheck, Rows, far_from_optimum
from skla._algorithms.curvature import (
    SAFE_FACTOR,
    batch_curvature,
    largest_curvature,
    stable_step,
    step_cap,
)
from skla._algorithms.epochs import run_epochs
from skla._algorithms.minibatch import MiniBatchSGD
from skla._algorithms.standardise import Standardisation, measure
from skla._algorithms.windows import WINDOW_BYTES, batches, epoch_windows
from skla.components.losses import Huber, SquaredError
from skla.components.penalties import L1, L2
from skla.components.schedules import Auto, Constant


def data(seed=0, n=40, d=3, k=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 1.5, d) + 0.5
    Y = X @ rng.standard_normal((d, k)) + 1.0 + 0.1 * rng.standard_normal((n, k))
    w = rng.uniform(0.5, 1.5, n)
    return X, Y, w


def tilde(X, fit_intercept=True):
    """Rows x̃ = [x, 1] (dense)."""
    X = X.toarray() if sp.issparse(X) else X
    return np.column_stack([X, np.ones(len(X))]) if fit_intercept else X


def lam_max(X, v, fit_intercept=True):
    """λmax of Σ vᵢ x̃ᵢx̃ᵢᵀ by a dense eigensolver, and the gap ratio λ₂/λ₁."""
    Xt = tilde(X, fit_intercept)
    eigenvalues = np.linalg.eigvalsh((Xt.T * v) @ Xt)
    return eigenvalues[-1], eigenvalues[-2] / eigenvalues[-1]


def engine_for(coef, intercept, *, eta, batch_size, penalty=None, alpha=0.0, **kw):
    return MiniBatchSGD(
        coef.copy(),
        intercept.copy(),
        loss=SquaredError(),
        penalty=penalty,
        schedule=Constant(eta),
        alpha=alpha,
        fit_intercept=True,
        batch_size=batch_size,
        **kw,
    )


def prox(penalty, coef, step):
    """The proximal steps of the built-in penalties, written out."""
    if penalty is None:
        return coef
    if isinstance(penalty, L2):
        return coef / (1.0 + step)
    return np.sign(coef) * np.maximum(np.abs(coef) - step, 0.0)


# -- one epoch against hand-written steps ------------------------------------


@pytest.mark.parametrize(
    ("case", "k", "sparse"),
    [("fast", 1, False), ("two targets", 2, False), ("sparse", 1, True)],
)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("extra", [0, 17])
def test_full_batch_epoch_is_one_gradient_step(case, k, sparse, weighted, extra):
    """batch_size >= n: one epoch is β ← β - η Xᵀ G, b ← b - η ΣG with
    G = w ⊙ (Xβ + b - Y) / n, and its loss Σ wᵢ ½rᵢ² / n at the start (the
    objective the step descends, SGDRegressor's)."""
    X, Y, w = data(k=k)
    w = w if weighted else None
    n = len(X)
    coef0 = np.random.default_rng(1).standard_normal((3, k))
    intercept0 = np.full(k, 0.3)
    wv = np.ones(n) if w is None else w
    eta = 0.5 / lam_max(X, wv / n)[0]
    engine = engine_for(coef0, intercept0, eta=eta, batch_size=n + extra)
    Xin = sp.csr_matrix(X) if sparse else X
    loss = engine.epoch(Xin, Y, w)
    assert engine.max_eta > eta  # the cap played no part
    R = X @ coef0 + intercept0 - Y
    G = wv[:, None] * R / n
    assert_allclose(engine.coef, coef0 - eta * X.T @ G, rtol=1e-12, atol=1e-14)
    assert_allclose(engine.intercept, intercept0 - eta * G.sum(0), rtol=1e-12)
    assert loss == pytest.approx(0.5 * np.sum(wv[:, None] * R**2) / n, rel=1e-12)
    assert engine.t == 2
    assert engine.n_seen == n


def per_row_sgd(X, Y, w, coef, intercept, eta, order, penalty=None, alpha=0.0):
    """Per-sample SGD written out: the iterates after every update."""
    coef, intercept = coef.copy(), intercept.copy()
    iterates = []
    for i in order:
        g = (1.0 if w is None else w[i]) * (X[i] @ coef + intercept - Y[i])
        coef = prox(penalty, coef - eta * np.outer(X[i], g), eta * alpha)
        intercept = intercept - eta * g
        iterates.append((coef, intercept))
    return iterates


@pytest.mark.parametrize(
    ("penalty", "sparse", "k"),
    [
        (None, False, 1),  # the fast path
        (L2(), False, 1),  # the fast path, proximal scaling fused into gemv
        (L1(), False, 1),  # the generic path (prox)
        (None, True, 1),  # the generic path (sparse X)
        (L2(), False, 2),  # the generic path (two targets)
    ],
)
@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_size_one_is_per_row_sgd(penalty, sparse, k, shuffle):
    """batch_size=1: one update per row in the order of epoch_windows, each
    β ← prox(β - η wᵢ x̃ᵢ rᵢ, ηα); averaging from the 5th update on."""
    X, Y, w = data(seed=2, k=k)
    n = len(X)
    coef0, intercept0 = np.zeros((3, k)), np.full(k, 0.5)
    eta = 0.2 / np.max(w * np.sum(tilde(X) ** 2, axis=1))
    engine = engine_for(
        coef0,
        intercept0,
        eta=eta,
        batch_size=1,
        penalty=penalty,
        alpha=0.05,
        average_start=5,
    )
    rng = np.random.default_rng(3) if shuffle else None
    # The rows in the order of the windows of two epochs, from one stream.
    plan = np.random.default_rng(3) if shuffle else None
    orders = [
        np.concatenate(list(epoch_windows(n, 1, row_bytes=24, rng=plan)))
        if shuffle
        else np.arange(n)
        for _ in range(2)
    ]
    Xin = sp.csr_matrix(X) if sparse else X
    engine.epoch(Xin, Y, w, rng=rng)
    engine.epoch(Xin, Y, w, rng=rng)
    iterates = per_row_sgd(X, Y, w, coef0, intercept0, eta, orders[0], penalty, 0.05)
    iterates += per_row_sgd(X, Y, w, *iterates[-1], eta, orders[1], penalty, 0.05)
    assert_allclose(engine.coef, iterates[-1][0], rtol=1e-10, atol=1e-13)
    assert_allclose(engine.intercept, iterates[-1][1], rtol=1e-10, atol=1e-13)
    # The average runs over the iterates after which ≥ 5 samples were seen.
    coef, intercept = engine.result()
    assert_allclose(coef, np.mean([c for c, _ in iterates[4:]], axis=0), rtol=1e-10)
    assert_allclose(
        intercept, np.mean([b for _, b in iterates[4:]], axis=0), rtol=1e-10
    )
    assert engine.t == 2 * n + 1
    assert engine.average.count == 2 * n - 4


def test_larger_batches_are_mean_gradient_steps():
    """batch_size=7 (the last batch shorter): each update is the step of the
    mean gradient over its batch, on both paths."""
    X, Y, w = data(seed=4, n=30)
    eta = 0.1
    for sparse in [False, True]:
        engine = engine_for(np.zeros((3, 1)), np.zeros(1), eta=eta, batch_size=7)
        engine.epoch(sp.csr_matrix(X) if sparse else X, Y, w)
        coef, b = np.zeros((3, 1)), np.zeros(1)
        for start in range(0, 30, 7):
            rows = slice(start, start + 7)
            m = len(X[rows])
            G = w[rows, None] * (X[rows] @ coef + b - Y[rows]) / m
            coef, b = coef - eta * X[rows].T @ G, b - eta * G.sum(0)
        assert_allclose(engine.coef, coef, rtol=1e-12)
        assert_allclose(engine.intercept, b, rtol=1e-12)
        assert engine.t == 6


def preconditioned_data(n=40, seed=15):
    """Features on scales 100 apart, offset, and correlated (a clear gap)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    X[:, 1] = 0.8 * X[:, 0] + 0.3 * X[:, 1]
    X = X * [10.0, 0.1, 1.0] + [5.0, -3.0, 0.5]
    Y = X @ [[0.1], [2.0], [-1.0]] + 1.0 + 0.1 * rng.standard_normal((n, 1))
    return X, Y


def test_calibration_reads_the_row_norms_once(monkeypatch):
    """The step cap and the batch curvature share one read of the rows'
    norms (of the whole first window: a pass over X at one batch an epoch)."""
    import skla._algorithms.curvature as curvature

    X, Y = preconditioned_data(n=300)
    calls = []
    counted = curvature.row_norms
    monkeypatch.setattr(
        curvature, "row_norms", lambda *a, **k: calls.append(1) or counted(*a, **k)
    )

    engine = MiniBatchSGD(
        np.zeros((3, 1)),
        np.zeros(1),
        loss=SquaredError(),
        penalty=None,
        schedule=Auto(),
        alpha=0.0,
        fit_intercept=True,
        batch_size=16,
    )
    engine.epoch(X, Y, None)
    assert len(calls) == 1
    assert 0 < engine.max_eta < np.inf


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("warm", [False, True])
def test_auto_full_batch_epoch_is_a_standardised_gradient_step(sparse, warm):
    """learning_rate='auto', batch_size = n: one gradient step of size 1/λmax
    in z = (x - mean)/std coordinates (λmax of [z, 1]ᵀ[z, 1]/n), mapped back
    to raw coefficients; a cold start begins at the mean target."""
    X, Y = preconditioned_data()
    n = len(X)
    coef0 = np.array([[0.05], [1.0], [-0.5]]) if warm else np.zeros((3, 1))
    intercept0 = np.array([0.7]) if warm else np.zeros(1)
    engine = MiniBatchSGD(
        coef0.copy(),
        intercept0.copy(),
        loss=SquaredError(),
        penalty=None,
        schedule=Auto(),
        alpha=0.0,
        fit_intercept=True,
        batch_size=n,
    )
    engine.epoch(sp.csr_matrix(X) if sparse else X, Y, None)
    mu, sd = X.mean(0), X.std(0)
    Z = (X - mu) / sd
    lam, gap = lam_max(Z, np.full(n, 1 / n))
    assert gap < 0.6  # power iteration converges
    step = 1.0 / lam
    gamma0 = coef0 * sd[:, None]
    c0 = intercept0 + mu @ coef0 if warm else Y.mean(0)
    G = (Z @ gamma0 + c0 - Y) / n
    gamma, c = gamma0 - step * Z.T @ G, c0 - step * G.sum(0)
    beta = gamma / sd[:, None]
    assert_allclose(engine.coef, beta, rtol=1e-10)
    assert_allclose(engine.intercept, c - mu @ beta, rtol=1e-10)
    assert_allclose(engine.standard.shift, mu, rtol=1e-12)
    assert_allclose(engine.standard.scale, sd, rtol=1e-12)


# -- the preconditioner -------------------------------------------------------


def test_standardisation_from_moments():
    """With an intercept: shift = mean, scale = std; without: shift 0, scale
    = root mean square.  A constant column is scaled by |mean|, a zero one by
    the median spread of the others."""
    mean = np.array([5.0, -2.0, 1e6, 0.0, 0.0])
    variance = np.array([4.0, 0.25, 0.0, 0.0, 9.0])
    s = Standardisation.from_moments(
        mean, variance, fit_intercept=True, dtype=np.float64
    )
    assert_array_equal(s.shift, mean)
    assert_array_equal(s.scale, [2.0, 0.5, 1e6, 2.0, 3.0])  # median of 2, .5, 3
    s = Standardisation.from_moments(
        mean, variance, fit_intercept=False, dtype=np.float32
    )
    assert s.scale.dtype == np.float32
    assert_array_equal(s.shift, np.zeros(5))
    rms = np.sqrt(variance + mean**2)
    rms[3] = np.median(rms[[0, 1, 2, 4]])  # the zero column
    assert_allclose(s.scale, rms, rtol=1e-7)
    assert Standardisation(np.array([0.2, -0.1]), np.array([1.0, 1.9])).is_trivial()
    assert not Standardisation(np.array([0.3]), np.array([1.0])).is_trivial()
    assert not Standardisation(np.array([0.0]), np.array([2.1])).is_trivial()


def test_standardisation_changes_variables_not_the_model():
    """(β, b) → (γ, c) = (scale·β, b + shiftᵀβ) and back: zᵀγ + c = xᵀβ + b;
    ``raw`` is ``to_raw`` without writing; ``gradient`` is the chain rule."""
    rng = np.random.default_rng(16)
    X = rng.standard_normal((10, 3)) * [3.0, 0.5, 1.0] + [4.0, -1.0, 2.0]
    s = Standardisation(np.array([4.0, -1.0, 2.0]), np.array([3.0, 0.5, 1.0]))
    coef, intercept = rng.standard_normal((3, 2)), rng.standard_normal(2)
    gamma, c = coef.copy(), intercept.copy()
    s.to_scaled(gamma, c)
    assert_allclose(gamma, coef * s.scale[:, None], rtol=1e-15)
    assert_allclose(c, intercept + s.shift @ coef, rtol=1e-14)
    Z = s.transform(X, out=np.empty_like(X))
    assert_allclose(Z @ gamma + c, X @ coef + intercept, rtol=1e-13)
    raw = s.raw(gamma, c)
    assert_allclose(raw[0], coef, rtol=1e-15)
    assert_allclose(raw[1], intercept, rtol=1e-13)
    s.to_raw(gamma, c)
    assert_allclose(gamma, coef, rtol=1e-15)
    assert_allclose(c, intercept, rtol=1e-13)
    # Sparse rows are scaled only; offset = shift/scale completes them.
    Zs = s.transform(sp.csr_matrix(X), out=None)
    assert sp.issparse(Zs)
    assert_allclose(Zs.toarray() - s.offset, Z, rtol=1e-13, atol=1e-14)

    # Chain rule: F(β, b) = ½‖Xβ + b - Y‖², as a function of (γ, c).
    Y = rng.standard_normal((10, 2))

    def F(g, cc):
        beta, b = s.raw(g, cc)
        return 0.5 * np.sum((X @ beta + b - Y) ** 2)

    R = X @ coef + intercept - Y
    gamma, c = coef * s.scale[:, None], intercept + s.shift @ coef
    numeric = np.zeros_like(gamma)
    for idx in np.ndindex(gamma.shape):
        e = np.zeros_like(gamma)
        e[idx] = 1e-6
        numeric[idx] = (F(gamma + e, c) - F(gamma - e, c)) / 2e-6
    assert_allclose(s.gradient(X.T @ R, R.sum(0)), numeric, rtol=1e-7)


def test_standardisation_prox_in_scaled_coordinates():
    """The prox of step·R(γ/scale): soft-thresholding at step/scale for L1,
    scaling by 1/(1 + step/scale²) for L2 (and ``shrink`` says so)."""
    s = Standardisation(np.zeros(3), np.array([0.5, 1.0, 4.0]))
    v = np.array([[1.0, -0.3], [0.8, 2.0], [-0.1, 5.0]])
    threshold = 0.4 / s.scale[:, None]
    expected = np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)
    assert_allclose(s.prox(L1(), v, 0.4), expected, rtol=1e-15)
    factor = 1.0 / (1.0 + 0.4 / s.scale[:, None] ** 2)
    assert_allclose(s.prox(L2(), v, 0.4), v * factor, rtol=1e-15)
    steps = np.array([0.4, 1.0])
    expected = 1.0 / (1.0 + np.outer(steps, s.scale**-2.0))
    assert_allclose(s.shrink(L2(), steps), expected, rtol=1e-15)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_measure_reads_all_rows_when_preconditioning(fit_intercept):
    """The metric is centred and scaled by the window's moments; with
    ``precondition`` the moments are read again over all rows, and the
    preconditioner is centred (with an intercept) or scaled only."""
    X, _ = preconditioned_data(n=60)
    window = X[:20]
    v = np.full(20, 1 / 20)
    metric, standard = measure(
        X, None, None, window, None, fit_intercept=fit_intercept, precondition=False
    )
    assert standard is None
    assert_allclose(metric.shift, window.mean(0), rtol=1e-13)
    assert_allclose(metric.scale, np.sqrt(v @ (window - window.mean(0)) ** 2))
    metric, standard = measure(
        X, None, None, window, None, fit_intercept=fit_intercept, precondition=True
    )
    assert_allclose(metric.shift, X.mean(0), rtol=1e-13)
    assert_allclose(metric.scale, X.std(0), rtol=1e-12)
    if fit_intercept:
        assert standard is metric
    else:
        assert_array_equal(standard.shift, 0.0)
        assert_allclose(standard.scale, np.sqrt(np.mean(X**2, 0)), rtol=1e-12)
    # Data already standardised need no preconditioner.
    Z = (X - X.mean(0)) / X.std(0)
    _, standard = measure(Z, None, None, Z, None, fit_intercept=True, precondition=True)
    assert standard is None


@pytest.mark.parametrize("sparse", [False, True])
def test_measure_reads_a_window_of_every_row_once(monkeypatch, sparse):
    """A window that holds every row of the pass (one batch an epoch) is
    measured once: the moments over all rows are its own.  The same rows
    shuffled give the same preconditioner, to rounding."""
    import skla._algorithms.standardise as standardise

    X, _ = preconditioned_data(n=60)
    w = np.random.default_rng(2).uniform(0.5, 2.0, 60)
    calls = []
    counted = standardise.column_moments
    monkeypatch.setattr(
        standardise,
        "column_moments",
        lambda *a, **k: calls.append(1) or counted(*a, **k),
    )
    Xin = sp.csr_matrix(X) if sparse else X
    order = np.random.default_rng(3).permutation(60)
    _, standard = measure(
        Xin, w, None, Xin[order], w[order], fit_intercept=True, precondition=True
    )
    assert len(calls) == 1
    mean = np.average(X, axis=0, weights=w)
    assert_allclose(standard.shift, mean, rtol=1e-13)
    assert_allclose(standard.scale, np.sqrt(np.average((X - mean) ** 2, 0, w)))
    measure(Xin, w, None, Xin[:59], w[:59], fit_intercept=True, precondition=True)
    assert len(calls) == 3  # a window short of one row: all rows read again


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
def test_measure_sparse_float32_rows(fmt, weighted):
    """Sparse float32 X with float64 weights (a window's, then all rows'):
    the moments match numpy's in float64, to float32's resolution."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 4)) * [1.0, 10.0, 0.1, 3.0] + [5, 0, 1, -2]
    X = np.where(rng.random(X.shape) < 0.3, 0.0, X).astype(np.float32)
    w = rng.uniform(0.5, 2.0, 80) if weighted else None
    rows = np.arange(10, 70)
    Xs = sp.csr_matrix(X).asformat(fmt)
    window, ww = Xs[rows[:20]], None if w is None else w[rows[:20]]
    metric, standard = measure(
        Xs, w, rows, window, ww, fit_intercept=True, precondition=True
    )
    assert metric.shift.dtype == metric.scale.dtype == np.float32
    assert standard is metric
    v = np.ones(len(rows)) if w is None else w[rows]
    v = v / v.sum()
    X64 = X[rows].astype(np.float64)
    mean = v @ X64
    assert_allclose(metric.shift, mean, rtol=1e-6)
    assert_allclose(metric.scale, np.sqrt(v @ (X64 - mean) ** 2), rtol=1e-6)


# -- windows ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "batch_size", "row_bytes"),
    [
        (5, 2, WINDOW_BYTES),
        (6000, 32, 800),
        (1010, 32, 800),  # the last 16 KiB block is partial
        (5003, 16, 800),
        (1000, 7, 8),
        (333, 1000, 8),
    ],
)
@pytest.mark.parametrize("subset", [False, True])
def test_epoch_windows_visit_every_row_once(n, batch_size, row_bytes, subset):
    """Each row (of X, or of ``rows``) is visited once, windows hold whole
    batches, in order without rng (or with one batch) and in the same
    shuffle for the same seed."""
    rows = np.arange(3, 3 + 2 * n, 2) if subset else None
    expected = rows if subset else np.arange(n)

    def plan(seed):
        rng = None if seed is None else np.random.default_rng(seed)
        return list(
            epoch_windows(n, batch_size, row_bytes=row_bytes, rng=rng, rows=rows)
        )

    ordered = plan(None)
    if subset:
        assert_array_equal(np.concatenate(ordered), rows)
    else:
        assert all(isinstance(w, slice) for w in ordered)
        assert_array_equal(np.concatenate([expected[w] for w in ordered]), expected)
    sizes = [w.stop - w.start if isinstance(w, slice) else len(w) for w in ordered]
    assert all(size % batch_size == 0 for size in sizes[:-1])
    assert sum(sizes) == n
    if batch_size >= n:  # one batch: its gradient ignores the order
        for seed in [0, 1]:  # so the rows are read in place, unshuffled
            shuffled = [expected[w] if isinstance(w, slice) else w for w in plan(seed)]
            assert_array_equal(np.concatenate(shuffled), expected)
        return
    for seed in [0, 1]:
        windows = plan(seed)
        visited = np.concatenate(windows)
        assert_array_equal(np.sort(visited), expected)
        assert all(len(w) % batch_size == 0 for w in windows[:-1])
        for first, again in zip(windows, plan(seed), strict=True):
            assert_array_equal(first, again)
    if n > 100:
        assert not np.array_equal(np.concatenate(plan(0)), np.concatenate(plan(1)))
        assert not np.array_equal(np.concatenate(plan(0)), expected)


def test_shuffled_full_windows_mix_blocks_within_each_batch():
    """Batch j of a full window takes one row from each of batch_size slices:
    its rows come from batch_size different 16 KiB blocks of X."""
    windows = list(epoch_windows(6000, 32, row_bytes=800, rng=np.random.default_rng(0)))
    assert [len(w) for w in windows] == [2592, 2592, 816]
    block = 16 * 1024 // 800
    for window in windows[:2]:
        for batch in window.reshape(-1, 32):
            assert len(np.unique(batch // block)) == 32


@pytest.mark.parametrize("shape", [(10, 3), (10,), (9, 3), (2, 3)])
def test_batches_are_views_of_the_right_sizes(shape):
    """batches() cuts consecutive views of ``size`` rows, the last shorter;
    transposed ones are Fortran-contiguous."""
    a = np.arange(np.prod(shape), dtype=float).reshape(shape)
    parts = list(batches(a, 4))
    assert [len(p) for p in parts] == [4] * (shape[0] // 4) + (
        [shape[0] % 4] if shape[0] % 4 else []
    )
    assert_array_equal(np.concatenate(parts), a)
    assert all(np.shares_memory(p, a) for p in parts)
    if a.ndim == 2:
        for p, t in zip(parts, batches(a, 4, transpose=True), strict=True):
            assert_array_equal(t, p.T)
            assert t.flags.f_contiguous
            assert np.shares_memory(t, a)


# -- iterate averaging ------------------------------------------------------


def test_iterate_average_tail_and_plain():
    """With tail=True, after e epochs the mean runs over the iterates added
    after epoch s, the largest power of two ≤ e/2 (0 for e < 2); with
    tail=False over all of them."""
    rng = np.random.default_rng(5)
    tail = IterateAverage((2, 1), (1,), tail=True)
    plain = IterateAverage((2, 1), (1,), tail=False)
    assert tail.mean() is None
    added = []  # (epoch, coef, intercept)
    for e in range(1, 13):
        for _ in range(int(rng.integers(1, 4))):
            coef, intercept = rng.standard_normal((2, 1)), rng.standard_normal(1)
            tail.add(coef, intercept)
            plain.add(coef, intercept)
            added.append((e, coef, intercept))
        tail.end_epoch()
        plain.end_epoch()
        s = 0 if e < 2 else 2 ** int(np.floor(np.log2(e / 2)))
        kept = [(c, b) for epoch, c, b in added if epoch > s]
        coef, intercept = tail.mean()
        assert_allclose(coef, np.mean([c for c, _ in kept], axis=0), rtol=1e-12)
        assert_allclose(intercept, np.mean([b for _, b in kept], axis=0), rtol=1e-12)
        coef, intercept = plain.mean()
        assert_allclose(coef, np.mean([c for _, c, _ in added], axis=0), rtol=1e-12)
        assert_allclose(intercept, np.mean([b for *_, b in added], axis=0), rtol=1e-12)
    assert tail.epochs == 12
    assert tail.count == len(added)


# -- curvature ----------------------------------------------------------------


def curvature_data(m, d, seed=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d))
    X[:, 0] = 3.0 * X[:, 0] + 1.0  # one dominant direction: a clear eigengap
    return X, rng.uniform(0.5, 1.5, m)


@pytest.mark.parametrize(
    ("m", "d", "kind", "max_dense"),
    [
        (60, 5, "dense", 2048),  # tall: the d×d Gram matrix
        (6, 20, "dense", 2048),  # wide: the m×m Gram matrix
        (60, 5, "sparse", 2048),
        (6, 20, "sparse", 2048),
        (60, 5, "dense", 3),  # the implicit product
        (60, 5, "sparse", 3),
    ],
)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_largest_curvature_is_the_largest_eigenvalue(
    m, d, kind, max_dense, fit_intercept
):
    """λmax of Σ vᵢ x̃ᵢx̃ᵢᵀ (x̃ = [x, 1] with an intercept) matches eigvalsh."""
    X, v = curvature_data(m, d)
    X[X < -0.5] = 0.0
    expected, gap = lam_max(X, v, fit_intercept)
    assert gap < 0.5
    Xin = sp.csr_matrix(X) if kind == "sparse" else X
    value = largest_curvature(Xin, v, fit_intercept, max_dense=max_dense)
    assert value == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("scale", [1e-30, 1.0, 1e30])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_largest_curvature_of_many_rows_in_float32(monkeypatch, scale, fit_intercept):
    """A batch of more than SINGLE_PRECISION_ROWS rows has its Gram matrix
    taken in float32: λmax still within 1e-5 of eigvalsh (float64), and
    data whose squares float32 cannot hold are redone in float64 (1e30:
    they overflow; 1e-30: they underflow, unless the intercept's column
    keeps λmax in range -- it is then the intercept's alone, to 1e-60)."""
    import skla._algorithms.curvature as curvature

    dtypes = []
    gram = curvature._weighted_gram
    monkeypatch.setattr(
        curvature,
        "_weighted_gram",
        lambda *a, **k: dtypes.append(k.get("dtype", np.float64)) or gram(*a, **k),
    )
    m = curvature.SINGLE_PRECISION_ROWS + 1
    X, v = curvature_data(m, 4)
    X[:, 0] *= 3.0  # a clear gap for the power iteration
    expected, gap = lam_max(X, v, fit_intercept)
    assert gap < 0.5
    with np.errstate(over="ignore"):  # the reference's own squares at 1e30
        if fit_intercept:  # the intercept's column is not scaled
            expected, _ = lam_max(X * scale, v, fit_intercept)
        else:
            expected *= scale**2
    value = curvature.largest_curvature(X * scale, v, fit_intercept)
    assert value == pytest.approx(expected, rel=1e-5)
    assert dtypes[0] == np.float32
    redone = scale == 1e30 or (scale == 1e-30 and not fit_intercept)
    assert dtypes[1:] == ([np.float64] if redone else [])


@pytest.mark.parametrize("smoothness", [1.0, 2.0])
def test_step_cap_is_safe_factor_over_the_largest_probe_curvature(smoothness):
    """step_cap = SAFE_FACTOR / (s · L), L the larger of λmax over the first
    4 batches (batch weights wᵢ / m) and of every row's share wᵢ‖x̃ᵢ‖² / B
    of any batch it falls in; no smoothness: inf."""
    X, w = curvature_data(45, 4)
    B = 8

    def share(i):
        return w[i] * (X[i] @ X[i] + 1.0) / B

    def probes():
        return max(
            lam_max(X[j * B : (j + 1) * B], w[j * B : (j + 1) * B] / B)[0]
            for j in range(4)
        )

    cap = step_cap(X, w, smoothness, B, True)
    largest = max(probes(), max(share(i) for i in range(45)))
    assert cap == pytest.approx(SAFE_FACTOR / (smoothness * largest), rel=1e-6)
    X[35] *= 100.0  # in the fifth batch, not probed: its own share counts
    assert share(35) > probes()
    assert step_cap(X, w, smoothness, B, True) == pytest.approx(
        SAFE_FACTOR / (smoothness * share(35)), rel=1e-6
    )
    X[12] *= 1000.0  # in the second batch: probed, its λmax above any share
    assert probes() > share(12)
    assert step_cap(X, w, smoothness, B, True) == pytest.approx(
        SAFE_FACTOR / (smoothness * probes()), rel=1e-6
    )
    assert step_cap(X, w, None, B, True) == np.inf


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_batch_curvature_interpolates_full_batch_and_single_row(fit_intercept):
    """L_B runs from λmax (B = n) to max mᵢvᵢ‖x̃ᵢ‖² (B = 1), with Gower et
    al.'s interpolation in between."""
    X, w = curvature_data(50, 4)
    v = w / w.sum()
    full, _ = lam_max(X, v, fit_intercept)
    single = np.max(50 * v * np.sum(tilde(X, fit_intercept) ** 2, axis=1))
    n = 200
    for B, expected in [
        (n, full),
        (1, single),
        (10, (n * 9 * full + (n - 10) * single) / (10 * (n - 1))),
    ]:
        curvature, smoothness = batch_curvature(X, v, n, B, fit_intercept)
        assert curvature == pytest.approx(full, rel=1e-6)
        assert smoothness == pytest.approx(expected, rel=1e-6)


def test_stable_step_smooth_and_linear():
    """Smooth losses: 1 / (s·L_B); no curvature bound, or a gradient bound below
    the targets' spread: spread / (bound · L_B), not smooth."""
    rng = np.random.default_rng(7)
    Y = 3.0 * rng.standard_normal((20, 2)) + 5.0
    v = rng.uniform(0.5, 1.5, 20)
    v /= v.sum()
    spread = max(
        np.sqrt(np.average((Y[:, j] - np.average(Y[:, j], weights=v)) ** 2, weights=v))
        for j in range(2)
    )
    assert stable_step(2.0, None, Y, v, 4.0) == (pytest.approx(1 / 8.0), True)
    step, smooth = stable_step(None, None, Y, v, 4.0)
    assert (step, smooth) == (pytest.approx(spread / 4.0, rel=1e-12), False)
    step, smooth = stable_step(1.0, 0.5, Y, v, 4.0)  # Huber, small epsilon
    assert (step, smooth) == (pytest.approx(spread / 2.0, rel=1e-12), False)
    assert stable_step(1.0, 2 * spread, Y, v, 4.0) == (pytest.approx(0.25), True)
    # Constant targets (weights summing to one exactly): a spread of 1.
    v32 = np.full(32, 1 / 32)
    assert stable_step(None, None, np.full((32, 1), 3.0), v32, 4.0) == (0.25, False)


def test_stable_step_constant_targets_with_inexact_weights():
    """Constant targets with uniform weights 1/20 (whose sum rounds): the
    spread is 0, so the fallback spread of 1 gives step 1 / L_B."""
    from skla._data import unit_weights

    v = unit_weights(None, 20)
    assert stable_step(None, None, np.ones((20, 1)), v, 4.0) == (0.25, False)


# -- the optimality check --------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_optimality_check_at_the_exact_optimum(fit_intercept, alpha):
    """At the exact least-squares (or ridge) solution the full gradient
    mapping vanishes and ``problem`` is None; at zero it is a message, and the
    gain it reports is a lower bound on the true remaining decrease."""
    X, Y, _ = data(seed=8, n=120, d=4)
    X = X + 2.0
    n = len(X)
    ridge = Ridge(alpha=alpha * n, fit_intercept=fit_intercept, solver="cholesky")
    ridge.fit(X, Y[:, 0])
    coef, intercept = ridge.coef_[:, None], np.atleast_1d(ridge.intercept_)
    if alpha == 0:
        A = tilde(X, fit_intercept)
        solution = np.linalg.lstsq(A, Y, rcond=None)[0]
        assert_allclose(coef, solution[:4], rtol=1e-10)
    start = (np.zeros((4, 1)), np.zeros(1))
    engine = MiniBatchSGD(
        *[a.copy() for a in start],
        loss=SquaredError(),
        penalty=L2(),
        schedule=Constant(0.01),
        alpha=alpha,
        fit_intercept=fit_intercept,
        batch_size=10,
    )
    engine.epoch(X, Y, None)  # measures the metric of the check
    check = OptimalityCheck(engine, Rows(X, Y, None), start)
    assert check.problem(coef, intercept) is None
    norm, objective, gain = check.mapping(coef, intercept)
    initial, objective0, gain0 = check.mapping(*start)
    assert norm < 1e-9 * initial
    assert gain < 1e-15 * objective
    expected = 0.5 * np.mean((X @ coef + intercept - Y) ** 2)
    expected += alpha * 0.5 * np.sum(coef**2)
    assert objective == pytest.approx(expected, rel=1e-12)
    assert objective0 == pytest.approx(0.5 * np.mean(Y**2), rel=1e-12)
    assert 0 < gain0 <= objective0 - objective
    message = check.problem(*start)
    assert message.startswith("the objective can still drop by at least")


def test_optimality_check_without_curvature_bound_compares_with_the_mean():
    """A loss without a curvature bound: ``problem`` flags a fit worse than
    predicting the mean of y."""
    from skla.components.losses import EpsilonInsensitive

    X, Y, _ = data(seed=9)
    start = (np.zeros((3, 1)), np.zeros(1))
    engine = MiniBatchSGD(
        *[a.copy() for a in start],
        loss=EpsilonInsensitive(0.0),
        penalty=None,
        schedule=Constant(1e-4),
        alpha=0.0,
        fit_intercept=True,
        batch_size=10,
    )
    engine.epoch(X, Y, None)
    assert not engine.capped
    check = OptimalityCheck(engine, Rows(X, Y, None), start)
    median = np.median(Y)
    assert check.problem(np.zeros((3, 1)), np.array([median])) is None
    trivial = np.mean(np.abs(Y - Y.mean()))
    # Just worse than the mean: from the mean, away from the median.
    worse = Y.mean() + 0.01 * np.sign(Y.mean() - median)
    fitted = np.mean(np.abs(Y - worse))
    assert trivial < fitted < 1.01 * trivial
    message = check.problem(np.zeros((3, 1)), np.array([worse]))
    assert message == (
        f"its objective {fitted:.3g} is worse than predicting the mean "
        f"of y ({trivial:.3g})"
    )


def diagnose(eta, moved_to):
    """The warning of an explicit schedule's run of one epoch at step ``eta``
    whose result is then moved to ``moved_to`` times the least-squares
    coefficients (far from the optimum), and the run's step cap."""
    X, Y, _ = data(seed=4, n=200)
    start = (np.zeros((3, 1)), np.zeros(1))
    engine = MiniBatchSGD(
        *[a.copy() for a in start],
        loss=SquaredError(),
        penalty=None,
        schedule=Constant(eta),
        alpha=0.0,
        fit_intercept=True,
        batch_size=10,
    )
    engine.epoch(X, Y, None)
    solution = np.linalg.lstsq(tilde(X), Y, rcond=None)[0]
    engine.coef[...] = moved_to * solution[:3]
    engine.intercept[...] = moved_to * solution[3]
    check = OptimalityCheck(engine, Rows(X, Y, None), start)
    with pytest.warns(ConvergenceWarning, match="far from the optimum") as record:
        far_from_optimum(engine, check, 1)
    (warning,) = record
    return str(warning.message), engine.max_eta


def test_step_diagnosis_reads_what_the_steps_did():
    """Too large: steps capped, or an objective above its start (-1 times the
    solution); too small: steps under a quarter of the cap that lowered the
    objective; in between, a larger eta0 would be cut back to the cap."""
    small, cap = diagnose(1e-3, 0.5)
    assert cap > 20 * 1e-3
    assert "too small" in small
    assert small.endswith("or a larger eta0.")
    near, _ = diagnose(0.5 * cap, 0.5)
    assert "raising eta0 gains little" in near
    capped, _ = diagnose(10 * cap, 0.5)
    assert f"asked for {10 * cap:.3g}, above the step cap max_eta_={cap:.3g}" in capped
    rose, _ = diagnose(1e-3, -1.0)
    assert "too large for these data: the objective rose" in rose
    for message in (near, capped, rose):
        assert "larger eta0" not in message
        assert "too small" not in message
    assert "smaller eta0" in capped
    assert "smaller eta0" in rose


# -- the epoch loop -----------------------------------------------------------


class Recording(MiniBatchSGD):
    """The engine, recording its loss and result after every epoch."""

    def epoch(self, *args, **kwargs):
        loss = super().epoch(*args, **kwargs)
        self.history.append((loss, tuple(a.copy() for a in self.result())))
        return loss


def recording_engine(X, eta=0.05):
    engine = Recording(
        np.zeros((X.shape[1], 1)),
        np.zeros(1),
        loss=Huber(1.0),
        penalty=None,
        schedule=Constant(eta),
        alpha=0.0,
        fit_intercept=True,
        batch_size=4,
    )
    engine.history = []
    return engine


def stop_epoch(values, tol, n_iter_no_change, sign):
    """scikit-learn's rule: the epoch after which n_iter_no_change epochs in a
    row did not improve on the best by tol (None if never)."""
    best, count = -np.inf, 0
    for e, value in enumerate(values, 1):
        value = sign * value
        count = 0 if value >= best + tol else count + 1
        best = max(best, value)
        if count >= n_iter_no_change:
            return e
    return None


@pytest.mark.parametrize(
    ("eta", "tol"),
    [
        (0.05, 1e-3),  # noisy scores: the best epoch is not the last
        (0.01, 0.01),  # slow progress: rises below tol do not count
    ],
)
def test_run_epochs_restores_the_best_validation_epoch(eta, tol):
    """With validation data: the scores are the R² of each epoch's result,
    ``best`` is the result of the best-scoring epoch, and the run stops after
    n_iter_no_change epochs that do not improve by tol."""
    X, Y, _ = data(seed=10, n=200, d=5)
    Y = Y + np.random.default_rng(11).standard_normal(Y.shape)
    X_val, Y_val = X[150:], Y[150:]
    engine = recording_engine(X, eta=eta)
    run = run_epochs(
        engine,
        X[:150],
        Y[:150],
        None,
        max_iter=100,
        tol=tol,
        n_iter_no_change=3,
        rng=np.random.default_rng(12),
        validation=(X_val, Y_val, None),
    )
    results = [result for _, result in engine.history]
    scores = [r2_score(Y_val, X_val @ c + b) for c, b in results]
    assert_allclose(run.validation_scores, scores, rtol=1e-12)
    assert run.n_iter == len(results) == stop_epoch(scores, tol, 3, +1) < 100
    best = int(np.argmax(scores))
    assert_array_equal(run.best[0], results[best][0])
    assert_array_equal(run.best[1], results[best][1])
    assert run.best_score == max(scores)
    assert run.loss_curve == [loss for loss, _ in engine.history]
    if tol == 1e-3:
        assert best < run.n_iter - 1  # the run moved on from the best epoch
    else:  # counting any rise as progress would not have stopped yet
        assert stop_epoch(scores, 1e-12, 3, +1) is None


def test_run_epochs_on_the_training_objective():
    """Without validation the loop watches the epoch objective (loss +
    α·penalty); with tol=None it runs max_iter epochs; reaching max_iter with
    a tol warns."""
    X, Y, _ = data(seed=13, n=100)
    engine = recording_engine(X, eta=0.02)
    run = run_epochs(
        engine,
        X,
        Y,
        None,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=2,
        rng=np.random.default_rng(14),
    )
    losses = [loss for loss, _ in engine.history]
    assert run.loss_curve == losses
    assert run.n_iter == stop_epoch(losses, 1e-4, 2, -1) < 200
    assert run.best_loss == min(losses)
    assert run.best is None
    engine = recording_engine(X)
    run = run_epochs(engine, X, Y, None, max_iter=4, tol=None, n_iter_no_change=1)
    assert run.n_iter == 4
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        run_epochs(engine, X, Y, None, max_iter=3, tol=-np.inf, n_iter_no_change=1)
