"""skla on a dask LocalCluster against dask-ml and dask's own linear algebra.

Least squares: ``PinvRegressor`` against dask-ml's ``LinearRegression``
(its default solver) and ``dask.array.linalg.lstsq`` (on ``[X, 1]``).  SVD:
``TruncatedSVDCompressor`` against ``dask.array.linalg.svd_compressed`` and
dask-ml's ``TruncatedSVD``, on tall X (the exact route) and on wide X (more
than 1024 features: the range finder on the cluster).  Errors are against
numpy on the loaded data (``np.linalg.lstsq``, ``np.linalg.svd``, and for
wide X the eigenvalues of ``XᵀX``).  The cluster: 2 worker
processes, 1 thread and 2 GiB each, on 127.0.0.1; X is generated on the
workers and persisted there before timing.  Needs dask-ml (not a skla
dependency): ``pip install ".[bench]"``.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_dask.py
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np


def best_time(run, rounds):
    best, result = np.inf, None
    for _ in range(rounds):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def least_squares(X, y, X_mem, y_mem, rounds):
    import dask.array as da
    from dask_ml.linear_model import LinearRegression

    from skla import PinvRegressor

    ones = np.ones((X_mem.shape[0], 1))
    exact = np.linalg.lstsq(np.hstack([X_mem, ones]), y_mem, rcond=None)[0][:-1]
    ones_d = da.ones((X.shape[0], 1), chunks=(X.chunks[0], 1))
    X1 = da.concatenate([X, ones_d], axis=1).rechunk({1: -1})
    methods = {
        "skla PinvRegressor": lambda: PinvRegressor().fit(X, y).coef_,
        "dask-ml LinearRegression": lambda: LinearRegression().fit(X, y).coef_,
        "dask.array.linalg.lstsq": lambda: da.linalg.lstsq(X1, y)[0][:-1].compute(),
    }
    rows = []
    for name, run in methods.items():
        seconds, coef = best_time(run, rounds)
        error = np.linalg.norm(coef - exact) / np.linalg.norm(exact)
        rows.append((name, seconds, error))
    return rows


def truncated_svd(X, X_mem, k, rounds):
    import dask.array as da
    from dask_ml.decomposition import TruncatedSVD

    from skla import TruncatedSVDCompressor

    exact = np.linalg.svd(X_mem, compute_uv=False)[:k]
    methods = {
        "skla TruncatedSVDCompressor": lambda: (
            TruncatedSVDCompressor(k).fit(X).singular_values_
        ),
        "dask svd_compressed (2 power iterations)": lambda: da.linalg.svd_compressed(
            X, k, n_power_iter=2, seed=0
        )[1].compute(),
        "dask-ml TruncatedSVD (tsqr)": lambda: (
            TruncatedSVD(k, algorithm="tsqr").fit(X).singular_values_
        ),
    }
    rows = []
    for name, run in methods.items():
        seconds, s = best_time(run, rounds)
        rows.append((name, seconds, float(np.max(np.abs(s - exact) / exact))))
    return rows


def wide_svd(n, d, k, rounds):
    """Wide X (d > 1024): skla's range finder on the cluster against
    ``svd_compressed``; σ exact from the eigenvalues of XᵀX (numpy)."""
    import dask.array as da

    from skla import TruncatedSVDCompressor

    rng = da.random.default_rng(1)
    rank = 60
    decay = 0.9 ** np.arange(rank)
    A = rng.standard_normal((n, rank), chunks=(2000, rank)) * decay
    X = A @ rng.standard_normal((rank, d), chunks=(rank, d)) / np.sqrt(d)
    X = (X + 0.01 * rng.standard_normal((n, d), chunks=(2000, d))).persist()
    X_mem = X.compute()
    gram = X_mem.T @ X_mem
    exact = np.sqrt(np.linalg.eigvalsh(gram)[::-1][:k])
    methods = {
        "skla TruncatedSVDCompressor (auto: range finder, 4 power iterations)": (
            lambda: TruncatedSVDCompressor(k, random_state=0).fit(X).singular_values_
        ),
        "skla TruncatedSVDCompressor(algorithm='randomized')": lambda: (
            TruncatedSVDCompressor(k, algorithm="randomized", random_state=0)
            .fit(X)
            .singular_values_
        ),
        "dask svd_compressed (2 power iterations)": lambda: da.linalg.svd_compressed(
            X, k, n_power_iter=2, seed=0
        )[1].compute(),
        "dask svd_compressed (4 power iterations)": lambda: da.linalg.svd_compressed(
            X, k, n_power_iter=4, seed=0
        )[1].compute(),
    }
    rows = []
    for name, run in methods.items():
        seconds, s = best_time(run, rounds)
        rows.append((name, seconds, float(np.max(np.abs(s - exact) / exact))))
    return X_mem.nbytes, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wide-rows", type=int, default=20_000)
    parser.add_argument("--wide-features", type=int, default=2_000)
    args = parser.parse_args()
    import dask.array as da
    import distributed

    warnings.simplefilter("ignore")
    n, d = args.rows, args.features
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # dashboard_address=None still binds the scheduler's HTTP routes to
        # port 8787 ("Port 8787 is already in use" on a shared machine).
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        memory_limit="2GiB",
        silence_logs=logging.ERROR,
    )
    with cluster, distributed.Client(cluster):
        rng = da.random.default_rng(0)
        scales = np.linspace(0.5, 2.0, d)
        X = rng.standard_normal((n, d), chunks=(100_000, d)) * scales + 5.0
        y = X @ np.linspace(-1, 1, d) + 3.0 + rng.standard_normal(n, chunks=100_000)
        X, y = X.persist(), y.persist()
        X_mem, y_mem = X.compute(), y.compute()
        print(
            f"X: {n} x {d} float64, {X_mem.nbytes / 1e9:.2f} GB, chunks of 100000 rows"
        )
        print("\n| least squares | time (s) | rel. error of coef |\n|---|---:|---:|")
        for name, seconds, error in least_squares(X, y, X_mem, y_mem, args.rounds):
            print(f"| {name} | {seconds:.2f} | {error:.1e} |")
        print("\n| SVD, k = 10 | time (s) | max rel. error of σ |\n|---|---:|---:|")
        for name, seconds, error in truncated_svd(X, X_mem, 10, args.rounds):
            print(f"| {name} | {seconds:.2f} | {error:.1e} |")
        del X, y, X_mem, y_mem
        size, rows = wide_svd(args.wide_rows, args.wide_features, 10, args.rounds)
        print(
            f"\n| wide X, {args.wide_rows} × {args.wide_features} "
            f"({size / 1e9:.2f} GB), k = 10 | time (s) | max rel. error of σ |"
            "\n|---|---:|---:|"
        )
        for name, seconds, error in rows:
            print(f"| {name} | {seconds:.2f} | {error:.1e} |")


if __name__ == "__main__":
    main()
