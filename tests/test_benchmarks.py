"""The benchmark scripts' methods compute what their tables claim (no timing)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from skla.datasets import make_spectral_regression

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_pinv.py"


def _load(path):
    """Import a benchmark script as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load(BENCH)


def test_every_benchmarked_method_fits_the_same_coefficients(bench):
    X, y, _ = make_spectral_regression(300, 8, cond=10.0, noise=1.0, random_state=0)
    reference = np.linalg.lstsq(X - X.mean(0), y - y.mean(), rcond=None)[0]
    for method in bench.SKLA + bench.REFERENCES:
        coef = bench.fit_method(method, X, y)
        assert np.linalg.norm(coef - reference) <= 1e-8 * np.linalg.norm(reference)


def test_table_reports_ratios_against_linear_regression(bench):
    row = {"time": 2.0, "peak": 0.0, "error": 0.0, "used": "", "warnings": []}
    rows = {"auto": {**row, "time": 0.5, "used": "gram"}, "LinearRegression": row}
    table = bench.format_table("case", 8 * 2**20, rows)
    assert "| PinvRegressor('auto') → gram | 0.500 | 4.00× |" in table


BENCH_SGD = BENCH.with_name("bench_sgd.py")


@pytest.fixture(scope="module")
def bench_sgd():
    return _load(BENCH_SGD)


def test_sgd_benchmark_methods_learn_the_fit(bench_sgd):
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Ridge

    X, y = make_regression(n_samples=4000, n_features=10, noise=5, random_state=0)
    optimum = Ridge(alpha=bench_sgd.ALPHA * len(y)).fit(X, y).score(X, y)
    methods = {**dict(bench_sgd.EPOCH_METHODS), **bench_sgd.ACCURACY_METHODS}
    for name, entry in methods.items():
        make = entry[0] if isinstance(entry, tuple) else entry
        _, est = bench_sgd.timed_fit(make, X, y, 16)
        assert est.score(X, y) >= 0.3, name  # 16 epochs: 64 updates at 1024
    assert est.max_iter == 16
    make = bench_sgd.ACCURACY_METHODS["SGDMiniBatchRegressor(batch_size=32)"]
    epochs = bench_sgd.epochs_to_accuracy(make, X, y, optimum)
    _, est = bench_sgd.timed_fit(make, X, y, epochs)
    assert est.score(X, y) >= optimum - bench_sgd.TARGET
    assert bench_sgd.peak_memory(bench_sgd.ours(32), X, y) > 0


def test_sgd_defaults_table_has_a_row_per_data_set(bench_sgd, capsys):
    bench_sgd.defaults_table()
    rows = [line for line in capsys.readouterr().out.splitlines() if "|" in line]
    assert len(rows) == 2 + len(bench_sgd.raw_datasets()) == 7
    optimum, *scores = (float(cell) for cell in rows[2].split("|")[2:-1])
    assert all(score >= optimum - 0.01 for score in scores[1:])  # ours


BENCH_SVD = BENCH.with_name("bench_svd.py")


@pytest.fixture(scope="module")
def bench_svd():
    return _load(BENCH_SVD)


def test_svd_benchmark_methods_find_the_top_triplets(bench_svd):
    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.standard_normal((300, 200)))[0]
    V = np.linalg.qr(rng.standard_normal((200, 200)))[0]
    sigma = 100 * 0.9 ** np.arange(200)
    A = ((U * sigma) @ V.T).astype(np.float32)
    fro2 = float(np.sum(sigma**2))
    optimum = np.sqrt(np.sum(sigma[8:] ** 2) / fro2)
    for name, method in bench_svd.METHODS.items():
        s, Vt = method(A, 8)
        assert np.allclose(s, sigma[:8], rtol=1e-4), name
        assert bench_svd.relative_error(A, Vt, fro2) <= 1.001 * optimum, name


def test_svd_benchmark_sweep_writes_the_sheet(bench_svd, tmp_path):
    image = bench_svd.photo((96, 128))
    assert image.size == (128, 96)
    assert bench_svd.sweep(image, tmp_path / "sheet.png") > 0
    assert (tmp_path / "sheet.png").stat().st_size > 0


def test_sgd_fresh_process_timing_runs_one_fit(bench_sgd):
    seconds = bench_sgd.fresh_process_seconds(
        "SGDMiniBatchRegressor(batch_size=256)", 2000, 5, 1
    )
    assert 0 < seconds < 30


def test_memory_benchmark_measures_one_fit():
    bench = _load(BENCH.with_name("bench_memory.py"))
    traced, rss = bench.peak("TruncatedSVDCompressor(2)", 3000, 50)
    assert traced > 0  # small X: fixed costs
    assert rss >= 0


BENCH_IN_SCRIPT = BENCH.with_name("bench_in_script.py")


def test_in_script_benchmark_methods_and_errors():
    """Every method of bench_in_script fits, and its error column is the
    residual over the Eckart–Young optimum (1 for an exact top-k basis)."""
    bench = _load(BENCH_IN_SCRIPT)
    X, y = bench.regression((500, 5))
    for name, fit in bench.lstsq_methods().items():
        assert fit(X, y).score(X, y) > 0.5, name
    A = bench.photo("china.jpg", (60, 80))
    s = np.linalg.svd(A.astype(np.float64), compute_uv=False)
    for name, svd in bench.svd_methods().items():
        ratio = bench.error_ratio(A, svd(A, 4), s, 4)
        assert 1 - 1e-6 <= ratio <= 1.01, name
    Vt = np.linalg.svd(A.astype(np.float64))[2][1:5]  # not the top 4
    assert bench.error_ratio(A, Vt, s, 4) > 1.01


def test_fit_transform_benchmark_times_every_rank(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH.parent))  # it imports bench_in_script
    bench = _load(BENCH.with_name("bench_svd_fit_transform.py"))
    data = {"small": np.random.default_rng(0).random((96, 128), dtype=np.float32)}
    best = bench.best_times("fit_transform", data, rounds=1)
    assert sorted(best) == [("small", k) for k in sorted(bench.RANKS)]
    assert all(seconds > 0 for seconds in best.values())


BENCH_ROOFLINE = BENCH.with_name("bench_roofline.py")


def test_roofline_times_each_comparison_side_by_side():
    """In a script, the cases a ratio compares are timed in turn (one group):
    an SVD rank's four methods, the SGD epochs with SGDRegressor's, the Gram
    route with its floor, the streams with their fits."""
    roofline = _load(BENCH_ROOFLINE)
    groups = {}
    for name in roofline.CASES:
        groups.setdefault(roofline.group(name), set()).add(name)
    svd = groups["svd rank 4 china float32 3024x4032"]
    assert {name.split()[1] for name in svd} == {"skla", *roofline.SVD_PEERS}
    for kind in ("epoch", "partial_fit epoch"):
        assert f"SGDRegressor {kind} 200000x100" in groups[f"sgd {kind}"]
        assert len(groups[f"sgd {kind}"]) == len(roofline.SGD_BATCHES) + 1
    assert groups["gram 20000x1000"] == {"syrk 20000x1000", "pinv fit 20000x1000"}
    assert "pinv partial_fit 8x50000x100" in groups["streams"]
    assert sum(len(members) for members in groups.values()) == len(roofline.CASES)
