"""skla on a GPU through the Array API, against torch and scikit-learn's own.

Least squares on a 2000000 × 200 float64 tensor: ``PinvRegressor`` against
``torch.linalg.lstsq`` (on ``[X, 1]``) and scikit-learn's array-API
``Ridge(alpha=0, solver="svd")``.  Truncated SVD of the seed's 3024 × 4032
photo (grey, float32) at k = 8 and 64: ``TruncatedSVDCompressor`` against
``torch.svd_lowrank`` (4 power iterations) and scikit-learn's array-API
``PCA(svd_solver="randomized")`` (which centres the columns first; its error
is against the spectrum of the centred photo).  All on the same tensors,
with ``array_api_dispatch=True``; each result is copied to the host inside
the timing (that waits for the device).  Best of ``--rounds`` after one
untimed warm-up.  Errors are against numpy on the host
(``np.linalg.lstsq``, ``np.linalg.svd``).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE SCIPY_ARRAY_API=1 \\
        python benchmarks/bench_gpu.py                    # torch, cuda
    SCIPY_ARRAY_API=1 python benchmarks/bench_gpu.py --namespace array_api_strict \\
        --rows 20000 --features 20 --image 300x400        # a CPU smoke test

The torch rows need torch; array-api-strict runs the skla and scikit-learn
rows only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def host(a):
    """A result as a numpy array on the host (waits for the device)."""
    if hasattr(a, "cpu"):  # torch: .numpy() needs host memory
        a = a.cpu()
    return np.asarray(a)


def best_time(run, rounds):
    run()  # warm-up: kernels, plans, caches
    best, result = np.inf, None
    for _ in range(rounds):
        start = time.perf_counter()
        result = host(run())
        best = min(best, time.perf_counter() - start)
    return best, result


def least_squares_methods(xp, is_torch):
    """name → function of (X, y) on the device returning coef (no intercept)."""
    from sklearn.linear_model import Ridge

    from skla import PinvRegressor

    methods = {
        "skla PinvRegressor": lambda X, y: PinvRegressor().fit(X, y).coef_,
        "scikit-learn Ridge(alpha=0, solver='svd')": lambda X, y: (
            Ridge(alpha=0.0, solver="svd").fit(X, y).coef_
        ),
    }
    if is_torch:
        import torch

        def lstsq(X, y):
            ones = torch.ones((X.shape[0], 1), dtype=X.dtype, device=X.device)
            X1 = torch.cat([X, ones], dim=1)
            return torch.linalg.lstsq(X1, y[:, None]).solution[:-1, 0]

        methods["torch.linalg.lstsq"] = lstsq
    return methods


def svd_methods(xp, is_torch, k):
    """name → (function of X returning its top-k σ, centred?)."""
    from sklearn.decomposition import PCA

    from skla import TruncatedSVDCompressor

    methods = {
        "skla TruncatedSVDCompressor": (
            lambda X: TruncatedSVDCompressor(k, random_state=0).fit(X).singular_values_,
            False,
        ),
        "scikit-learn PCA(svd_solver='randomized')": (
            lambda X: (
                PCA(
                    k,
                    svd_solver="randomized",
                    power_iteration_normalizer="QR",  # array API has no LU
                    random_state=0,
                )
                .fit(X)
                .singular_values_
            ),
            True,
        ),
    }
    if is_torch:
        import torch

        methods["torch.svd_lowrank (4 power iterations)"] = (
            lambda X: torch.svd_lowrank(X, q=k + 10, niter=4)[1][:k],
            False,
        )
    return methods


def least_squares_rows(xp, device, is_torch, n, d, rounds):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 2.0, d) + 5.0
    y = X @ np.linspace(-1, 1, d) + 3.0 + rng.standard_normal(n)
    ones = np.ones((n, 1))
    exact = np.linalg.lstsq(np.hstack([X, ones]), y, rcond=None)[0][:-1]
    Xd, yd = xp.asarray(X, device=device), xp.asarray(y, device=device)
    rows = []
    for name, fit in least_squares_methods(xp, is_torch).items():
        seconds, coef = best_time(lambda fit=fit: fit(Xd, yd), rounds)
        error = np.linalg.norm(coef - exact) / np.linalg.norm(exact)
        rows.append((name, seconds, error))
    return rows


def photo(shape):
    """The seed's photo in grey, resized to ``shape``, float32."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    grey = Image.fromarray(load_sample_image("flower.jpg")).convert("L")
    return np.asarray(grey.resize(shape[::-1], Image.BICUBIC), dtype=np.float32)


def svd_rows(xp, device, is_torch, shape, k, rounds):
    A = photo(shape)
    exact = np.linalg.svd(A.astype(np.float64), compute_uv=False)[:k]
    centred = A.astype(np.float64) - A.mean(axis=0)
    exact_centred = np.linalg.svd(centred, compute_uv=False)[:k]
    Ad = xp.asarray(A, device=device)
    rows = []
    for name, (run, is_centred) in svd_methods(xp, is_torch, k).items():
        seconds, s = best_time(lambda run=run: run(Ad), rounds)
        reference = exact_centred if is_centred else exact
        rows.append((name, seconds, float(np.max(np.abs(s - reference) / reference))))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespace", default="torch")
    parser.add_argument("--device", default=None, help="default: cuda for torch")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=200)
    parser.add_argument("--image", default="3024x4032")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import importlib

    import sklearn

    xp = importlib.import_module(args.namespace)
    is_torch = args.namespace == "torch"
    device = args.device or ("cuda" if is_torch else None)
    if args.namespace == "array_api_strict" and device is not None:
        device = xp.Device(device)
    name = device
    if is_torch and str(device).startswith("cuda"):
        name = xp.cuda.get_device_name(xp.device(device))
    shape = tuple(int(v) for v in args.image.split("x"))
    print(f"namespace {args.namespace}, device {name}")
    with sklearn.config_context(array_api_dispatch=True):
        n, d = args.rows, args.features
        print(f"\n| least squares, {n} × {d} float64 | time (s) | rel. error of coef |")
        print("|---|---:|---:|")
        for row in least_squares_rows(xp, device, is_torch, n, d, args.rounds):
            print("| {} | {:.3f} | {:.1e} |".format(*row))
        for k in (8, 64):
            print(
                f"\n| SVD of the {shape[0]} × {shape[1]} photo (float32), k = {k} "
                "| time (s) | max rel. error of σ |\n|---|---:|---:|"
            )
            for row in svd_rows(xp, device, is_torch, shape, k, args.rounds):
                print("| {} | {:.3f} | {:.1e} |".format(*row))


if __name__ == "__main__":
    main()
