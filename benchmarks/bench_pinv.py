"""PinvRegressor against scikit-learn, numpy and scipy: fit time, peak memory, error.

Usage::

    python benchmarks/bench_pinv.py            # all cases, a markdown table
    python benchmarks/bench_pinv.py --quick    # small shapes, for a smoke test
    python benchmarks/bench_pinv.py --rounds 5 # more turns for a noisy machine

Every method fits an intercept: the references are applied to the centred data,
and the centring is part of their time.  The coefficient error is relative to
``numpy.linalg.lstsq`` on the centred data.

Each (case, method) pair runs in a fresh subprocess (so no method inherits
another's BLAS thread pools), and the methods take turns over several rounds:
the time is the best over all rounds, so every ratio compares measurements from
the same stretch of time on a machine whose speed drifts.  The peak memory is
the growth of the process's peak resident set size (Linux ``VmHWM``, reset
through ``/proc/self/clear_refs`` once the data are loaded) during the first
fit of the first round.  RSS is used rather than tracemalloc
because numpy.linalg allocates its LAPACK workspace with malloc, out of
tracemalloc's sight.  Memory is reported as a multiple of the size of X.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

CASES = {
    "tall 200000x100": {"n_samples": 200_000, "n_features": 100, "cond": 10.0},
    "wide-ish 20000x1000": {"n_samples": 20_000, "n_features": 1000, "cond": 10.0},
    "rank-deficient 200000x100 (rank 80)": {
        "n_samples": 200_000,
        "n_features": 100,
        "rank": 80,
    },
    "ill-conditioned 200000x100 (cond 1e6)": {
        "n_samples": 200_000,
        "n_features": 100,
        "cond": 1e6,
    },
}
QUICK_CASES = {
    "tall 20000x50": {"n_samples": 20_000, "n_features": 50, "cond": 10.0},
    "ill-conditioned 20000x50 (cond 1e6)": {
        "n_samples": 20_000,
        "n_features": 50,
        "cond": 1e6,
    },
}
SKLA = ["auto", "gram", "qr", "svd", "lsqr"]
REFERENCES = ["LinearRegression", "numpy pinv", "numpy lstsq", "scipy lstsq"]


def _centred(X, y):
    x_mean = X.mean(axis=0)
    y_mean = y.mean()
    return X - x_mean, y - y_mean


def fit_method(method, X, y):
    """Fit one method; return the coefficient vector."""
    if method in SKLA:
        from skla import PinvRegressor

        return PinvRegressor(solver=method).fit(X, y).coef_
    if method == "LinearRegression":
        from sklearn.linear_model import LinearRegression

        return LinearRegression().fit(X, y).coef_
    Xc, yc = _centred(X, y)
    if method == "numpy pinv":
        return np.linalg.pinv(Xc) @ yc
    if method == "numpy lstsq":
        return np.linalg.lstsq(Xc, yc, rcond=None)[0]
    if method == "scipy lstsq":
        import scipy.linalg

        return scipy.linalg.lstsq(Xc, yc, check_finite=False)[0]
    raise ValueError(method)


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); return the current RSS."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_bytes("VmRSS")


def _status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def worker(data_dir, method, repeats):
    """Run in a subprocess: time, peak memory and error of one method."""
    X = np.load(Path(data_dir) / "X.npy")
    y = np.load(Path(data_dir) / "y.npy")
    reference = np.load(Path(data_dir) / "reference.npy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_method(method, X[:200], y[:200])  # imports, outside the measurement
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = _reset_peak_rss()
        start = time.perf_counter()
        coef = fit_method(method, X, y)
        times = [time.perf_counter() - start]
        peak = _status_bytes("VmHWM") - before
        for _ in range(repeats - 1):
            start = time.perf_counter()
            fit_method(method, X, y)
            times.append(time.perf_counter() - start)
    error = np.linalg.norm(coef - reference) / np.linalg.norm(reference)
    used = ""
    if method == "auto":
        from skla import PinvRegressor

        used = PinvRegressor().fit(X, y).solver_used_
    return {
        "time": min(times),
        "peak": peak,
        "error": float(error),
        "used": used,
        "warnings": sorted({type(w.message).__name__ for w in caught}),
    }


def run_case(name, params, rounds):
    from skla.datasets import make_spectral_regression

    X, y, _ = make_spectral_regression(**params, noise=1.0, offset=10.0, random_state=0)
    reference = np.linalg.lstsq(*_centred(X, y), rcond=None)[0]
    rows = {}
    with tempfile.TemporaryDirectory() as data_dir:
        np.save(Path(data_dir) / "X.npy", X)
        np.save(Path(data_dir) / "y.npy", y)
        np.save(Path(data_dir) / "reference.npy", reference)
        for round_ in range(rounds):
            for method in SKLA + REFERENCES:
                print(f"  {name}, round {round_ + 1}: {method}", file=sys.stderr)
                command = [sys.executable, __file__, "--worker", data_dir, method]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(f"{method} failed on {name}:\n{done.stderr}")
                row = json.loads(done.stdout.strip().splitlines()[-1])
                if method in rows:  # keep the first round's memory figure
                    row["time"] = min(row["time"], rows[method]["time"])
                    row["peak"] = rows[method]["peak"]
                rows[method] = row
    return X.nbytes, rows


def format_table(name, x_bytes, rows):
    base = rows["LinearRegression"]["time"]
    lines = [
        f"**{name}** (X is {x_bytes / 2**20:.0f} MiB)",
        "",
        "| method | fit time (s) | speed-up vs LinearRegression | "
        "peak extra memory (× X) | rel. error vs numpy lstsq |",
        "|---|---:|---:|---:|---:|",
    ]
    for method, row in rows.items():
        label = f"PinvRegressor({method!r})" if method in SKLA else method
        if row["used"]:
            label += f" → {row['used']}"
        if row["warnings"]:
            label += f" ({', '.join(row['warnings'])})"
        lines.append(
            f"| {label} | {row['time']:.3f} | {base / row['time']:.2f}× | "
            f"{row['peak'] / x_bytes:.2f} | {row['error']:.1e} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes only")
    parser.add_argument("--rounds", type=int, default=3, help="turns each method takes")
    parser.add_argument("--repeats", type=int, default=2, help="fits per turn (worker)")
    parser.add_argument("--worker", nargs=2, metavar=("DATA_DIR", "METHOD"))
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker, args.repeats)))
        return
    import numpy
    import scipy
    import sklearn

    print(
        f"numpy {numpy.__version__}, scipy {scipy.__version__}, scikit-learn "
        f"{sklearn.__version__}; {os.cpu_count()} cores; best of {args.rounds} "
        f"rounds x {args.repeats} fits\n"
    )
    for name, params in (QUICK_CASES if args.quick else CASES).items():
        x_bytes, rows = run_case(name, params, args.rounds)
        print(format_table(name, x_bytes, rows), "\n", flush=True)


if __name__ == "__main__":
    main()
