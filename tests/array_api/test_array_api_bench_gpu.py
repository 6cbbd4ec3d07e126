"""benchmarks/bench_gpu.py's methods compute what its tables claim, on
array-api-strict arrays (no timing; the GPU run needs torch and a device)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sklearn import config_context

xp = pytest.importorskip("array_api_strict")
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_gpu.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_gpu", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_array_api_bench_gpu_rows(bench):
    with config_context(array_api_dispatch=True):
        rows = bench.least_squares_rows(xp, None, False, 3000, 12, rounds=1)
        svd = bench.svd_rows(xp, None, False, (120, 160), 8, rounds=1)
    assert [name for name, *_ in rows] == [
        "skla PinvRegressor",
        "scikit-learn Ridge(alpha=0, solver='svd')",
    ]
    for name, seconds, error in rows:
        assert seconds > 0
        assert error < 1e-10, name
    for name, _, error in svd:
        assert error < 1e-2, name  # randomized: the photo's spectrum decays slowly
    assert np.isfinite([seconds for _, seconds, _ in svd]).all()
