"""Exact streaming: partial_fit over a file of X, against fit and SGD.

Writes a float64 regression data set to ``.npy`` files (2 GiB of X by
default), then, each method in a fresh process, streams it in chunks of
64 MiB read from the file at an offset (the pages a memory map would touch,
read without mapping them, so that the process's peak resident set measures
what the method keeps):

- ``PinvRegressor.partial_fit`` (the R factor; and with ``solver="gram"``,
  the scatter matrix), ``GDRegressor(penalty="l1").partial_fit`` and
  ``TruncatedSVDCompressor(10).partial_fit``: one pass, exact;
- ``PinvRegressor.fit`` on the array loaded into memory (the load is timed
  apart);
- scikit-learn's ``SGDRegressor.partial_fit`` (after a first pass of
  ``StandardScaler.partial_fit``, counted: on the raw data it diverges) and
  skla's ``SGDMiniBatchRegressor.partial_fit``: passes until their R² on all
  rows is within 1e-4 of the exact least-squares R² (at most
  ``--max-passes``).

Reports time, throughput (GB of X per second), peak extra memory (growth of
``VmHWM`` over the process's resident set before the first chunk) and R².

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_streaming.py
    python benchmarks/bench_streaming.py --quick      # 128 MiB, a smoke test
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

CHUNK_BYTES = 64 * 2**20
METHODS = [
    "PinvRegressor.partial_fit",
    "PinvRegressor(gram).partial_fit",
    "GDRegressor(l1).partial_fit",
    "TruncatedSVDCompressor(10).partial_fit",
    "PinvRegressor.fit (loaded)",
    "SGDRegressor.partial_fit",
    "SGDMiniBatchRegressor.partial_fit",
]


def write_data(directory, n, d, seed=0):
    """X (n×d, offsets and scales), y = X β + 3 + noise, written in blocks."""
    rng = np.random.default_rng(seed)
    coef = rng.standard_normal(d)
    scales = rng.uniform(0.5, 2.0, d)
    X = np.lib.format.open_memmap(directory / "X.npy", "w+", np.float64, (n, d))
    y = np.lib.format.open_memmap(directory / "y.npy", "w+", np.float64, (n,))
    rows = CHUNK_BYTES // (8 * d)
    for start in range(0, n, rows):
        block = rng.standard_normal((min(rows, n - start), d)) * scales + 5.0
        X[start : start + len(block)] = block
        y[start : start + len(block)] = (
            block @ coef + 3.0 + rng.standard_normal(len(block))
        )
    X.flush()
    y.flush()


def chunks(directory):
    """(X, y) chunks of about 64 MiB, read from the files into one reused
    buffer (a consumer must not keep a chunk, as partial_fit does not)."""
    X_map = np.load(directory / "X.npy", mmap_mode="r")
    y_map = np.load(directory / "y.npy", mmap_mode="r")
    (n, d), x_offset, y_offset = X_map.shape, X_map.offset, y_map.offset
    del X_map, y_map
    rows = CHUNK_BYTES // (8 * d)
    X_buffer, y_buffer = np.empty((rows, d)), np.empty(rows)
    with open(directory / "X.npy", "rb") as fx, open(directory / "y.npy", "rb") as fy:
        fx.seek(x_offset)
        fy.seek(y_offset)
        for start in range(0, n, rows):
            size = min(rows, n - start)
            X, y = X_buffer[:size], y_buffer[:size]
            fx.readinto(X)
            fy.readinto(y)
            yield X, y


def r2(directory, predict):
    """R² on all rows, streamed."""
    sse = total = total_sq = 0.0
    n = 0
    for X, y in chunks(directory):
        sse += float(np.sum((y - predict(X)) ** 2))
        total += float(y.sum())
        total_sq += float(y @ y)
        n += len(y)
    return 1.0 - sse / (total_sq - total**2 / n)


def _status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def _reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_bytes("VmRSS")


def one_pass(estimator, directory):
    for X, y in chunks(directory):
        estimator.partial_fit(X, y)
    return estimator


def run(method, directory, target_r2, max_passes):
    """One method: (seconds, passes, the fitted model's predict)."""
    from skla import GDRegressor, PinvRegressor, TruncatedSVDCompressor

    start = time.perf_counter()
    if method == "PinvRegressor.partial_fit":
        model = one_pass(PinvRegressor(), directory)
    elif method == "PinvRegressor(gram).partial_fit":
        model = one_pass(PinvRegressor(solver="gram"), directory)
    elif method == "GDRegressor(l1).partial_fit":
        model = one_pass(GDRegressor(penalty="l1", alpha=1e-3, tol=1e-8), directory)
    elif method == "TruncatedSVDCompressor(10).partial_fit":
        model = TruncatedSVDCompressor(10)
        for X, _ in chunks(directory):
            model.partial_fit(X)
        return time.perf_counter() - start, 1, None
    elif method == "PinvRegressor.fit (loaded)":
        X, y = np.load(directory / "X.npy"), np.load(directory / "y.npy")
        loaded = time.perf_counter()
        model = PinvRegressor().fit(X, y)
        del X, y
        return time.perf_counter() - loaded, 1, model.predict
    else:  # SGD: passes until the R² target (its evaluation is not timed)
        return _sgd_passes(method, directory, target_r2, max_passes)
    return time.perf_counter() - start, 1, model.predict


def _sgd_passes(method, directory, target_r2, max_passes):
    from sklearn.linear_model import SGDRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skla import SGDMiniBatchRegressor

    elapsed, passes = 0.0, 0
    if method == "SGDRegressor.partial_fit":
        start = time.perf_counter()
        scaler = StandardScaler()
        for X, _ in chunks(directory):
            scaler.partial_fit(X)
        sgd = SGDRegressor(random_state=0)
        model = make_pipeline(scaler, sgd)
        elapsed, passes = time.perf_counter() - start, 1

        def step(X, y):
            sgd.partial_fit(scaler.transform(X), y)
    else:
        model = SGDMiniBatchRegressor(random_state=0)
        step = model.partial_fit
    while passes < max_passes:
        start = time.perf_counter()
        for X, y in chunks(directory):
            step(X, y)
        elapsed += time.perf_counter() - start
        passes += 1
        if r2(directory, model.predict) >= target_r2:
            break
    return elapsed, passes, model.predict


def worker(method, directory, target_r2, max_passes):
    warnings.simplefilter("ignore")
    directory = Path(directory)
    import sklearn.linear_model  # noqa: F401  (imports before the measurement)

    import skla  # noqa: F401

    before = _reset_peak()
    seconds, passes, predict = run(method, directory, target_r2, max_passes)
    peak = _status_bytes("VmHWM") - before
    score = r2(directory, predict) if predict is not None else float("nan")
    print(json.dumps({"seconds": seconds, "passes": passes, "peak": peak, "r2": score}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128 MiB of X")
    parser.add_argument("--gib", type=float, default=2.0, help="size of X")
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--max-passes", type=int, default=10)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        method, directory, target, passes = args.worker
        return worker(method, directory, float(target), int(passes))
    gib = 0.125 if args.quick else args.gib
    d = args.features
    n = int(gib * 2**30 // (8 * d))
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_data(directory, n, d)
        size_gb = n * d * 8 / 1e9
        print(f"X: {n} x {d} float64, {size_gb:.2f} GB; chunks of 64 MiB\n")
        from skla import PinvRegressor

        X, y = np.load(directory / "X.npy"), np.load(directory / "y.npy")
        exact = PinvRegressor().fit(X, y)
        del X, y
        target = r2(directory, exact.predict) - 1e-4
        print(
            "| method | time (s) | GB/s of X | passes | peak extra memory (MiB) | R² |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for method in METHODS:
            command = [sys.executable, __file__, "--worker", method, tmp]
            command += [repr(target), str(args.max_passes)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            rate = size_gb * result["passes"] / result["seconds"]
            print(
                f"| {method} | {result['seconds']:.2f} | {rate:.2f} | "
                f"{result['passes']} | {result['peak'] / 2**20:.0f} | "
                f"{result['r2']:.6f} |"
            )
        print(f"\nexact least-squares R²: {target + 1e-4:.6f}")


if __name__ == "__main__":
    main()
