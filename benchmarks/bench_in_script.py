"""skla and its peers in one process, with numpy work between fits, as in a script.

A user's script makes its data with numpy and does numpy work between fits,
so numpy's OpenBLAS threads are spinning when a fit starts; numpy and scipy
each load their own OpenBLAS.  This benchmark runs every method in one
process, the methods taking turns, with a few 600×600 numpy products right
before each fit; a method's time is its best over ``--rounds`` rounds
(after one untimed warm-up), the order of the methods shuffled each round.
``--fresh`` runs each (method, case) in its own process instead, with no
numpy work: the best case the other benchmarks measure.

- Least squares: ``PinvRegressor()`` against scikit-learn's
  ``LinearRegression`` on 200000 × 100 and 20000 × 1000, and
  ``GDRegressor()`` and ``SGDMiniBatchRegressor()`` on the same data.
- Truncated SVD of both bundled photos (china, flower) in grey, resized to
  the seed's 3024 × 4032, float32, at the seed's ranks 1, 2, 4, …, 64:
  ``TruncatedSVDCompressor(k)`` (the estimator, with its figures) and its
  default solver alone (``AutoSVD().svd``, the triplets only, as ``svds``)
  against ``TruncatedSVD`` (arpack and randomized) and
  ``scipy.sparse.linalg.svds(solver="propack")``; the error
  is ``‖A − A V Vᵀ‖_F`` over the Eckart–Young optimum (1 is optimal).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python benchmarks/bench_in_script.py [--fresh]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import subprocess
import sys
import time
import warnings

import numpy as np

RANKS = (1, 2, 4, 8, 16, 32, 64)
SHAPES = ((200_000, 100), (20_000, 1000))
PHOTOS = ("china.jpg", "flower.jpg")


def numpy_work(size=600):
    """What a script does between fits: numpy BLAS work (numpy's pool)."""
    a = np.random.default_rng(1).standard_normal((size, size))
    for _ in range(3):
        a = a @ a.T / size


def regression(shape):
    rng = np.random.default_rng(0)
    n, d = shape
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0, d) + 10.0
    return X, X @ rng.standard_normal(d) + rng.standard_normal(n)


def photo(name, shape=(3024, 4032)):
    from PIL import Image
    from sklearn.datasets import load_sample_image

    grey = Image.fromarray(load_sample_image(name)).convert("L")
    return np.asarray(grey.resize(shape[::-1], Image.BICUBIC), dtype=np.float32)


def lstsq_methods():
    """name → function of (X, y)."""
    from sklearn.linear_model import LinearRegression

    from skla import GDRegressor, PinvRegressor, SGDMiniBatchRegressor

    return {
        "PinvRegressor()": lambda X, y: PinvRegressor().fit(X, y),
        "LinearRegression()": lambda X, y: LinearRegression().fit(X, y),
        # The other estimators, for their time in a script against a fresh
        # process (issue 16: no more than 20% apart).
        "GDRegressor()": lambda X, y: GDRegressor().fit(X, y),
        "SGDMiniBatchRegressor()": lambda X, y: SGDMiniBatchRegressor(
            random_state=0
        ).fit(X, y),
    }


def svd_methods():
    """name → function of (A, k) returning the top-k right vectors Vᵀ."""
    from scipy.sparse.linalg import svds
    from sklearn.decomposition import TruncatedSVD

    from skla import TruncatedSVDCompressor
    from skla.components.svd import AutoSVD

    def propack(A, k):
        return svds(A, k=k, solver="propack", random_state=0)[2]

    return {
        "TruncatedSVDCompressor": lambda A, k: (
            TruncatedSVDCompressor(k, random_state=0).fit(A).components_
        ),
        "AutoSVD().svd": lambda A, k: AutoSVD().svd(A, k, random_state=0).Vt,
        "TruncatedSVD(arpack)": lambda A, k: (
            TruncatedSVD(k, algorithm="arpack", random_state=0).fit(A).components_
        ),
        "TruncatedSVD(randomized)": lambda A, k: (
            TruncatedSVD(k, algorithm="randomized", random_state=0).fit(A).components_
        ),
        "svds(propack)": propack,
    }


def error_ratio(A, Vt, s_exact, k):
    """``‖A − A V Vᵀ‖_F`` over the optimum ``√Σ_{i>k} σᵢ²`` (float64)."""
    A = A.astype(np.float64)
    V = np.asarray(Vt, dtype=np.float64).T
    residual = np.linalg.norm(A - (A @ V) @ V.T)
    return residual / np.sqrt(np.sum(s_exact[k:] ** 2))


def cases():
    """Every (kind, case, method) the benchmark times."""
    for shape in SHAPES:
        for name in lstsq_methods():
            yield "lstsq", shape, name
    for photo_name in PHOTOS:
        for k in RANKS:
            for name in svd_methods():
                yield "svd", (photo_name, k), name


def timed(kind, case, name, data, in_script):
    """One fit's seconds (numpy work first, in a script) and its result."""
    if in_script:
        numpy_work()
    start = time.perf_counter()
    if kind == "lstsq":
        result = lstsq_methods()[name](*data[case])
    else:
        photo_name, k = case
        result = svd_methods()[name](data[photo_name], k)
    return time.perf_counter() - start, result


def load(kinds):
    data = {}
    if "lstsq" in kinds:
        data.update({shape: regression(shape) for shape in SHAPES})
    if "svd" in kinds:
        data.update({name: photo(name) for name in PHOTOS})
    return data


def reordered(todo, turn):
    """``todo`` with the methods of each case shuffled (seed ``turn``; round 0
    keeps the listed order).

    A fit right after another library's BLAS work pays for that library's
    threads, which spin for up to ~50 ms (measured: a 180 ms rank-64 fit
    took 226 ms right after ``svds(propack)``, 182 ms after another skla
    fit): over the rounds each method follows different predecessors.
    """
    shuffler = random.Random(turn)
    out = []
    for _, group in itertools.groupby(todo, key=lambda item: item[:2]):
        group = list(group)
        if turn:
            shuffler.shuffle(group)
        out.extend(group)
    return out


def run_in_script(rounds):
    """All cases in this process, taking turns; best seconds per case."""
    todo = list(cases())
    data = load({kind for kind, _, _ in todo})
    best, results = {}, {}
    for round_ in range(rounds + 1):  # round 0 warms up
        for kind, case, name in reordered(todo, round_):
            seconds, result = timed(kind, case, name, data, in_script=True)
            if round_:
                key = (kind, case, name)
                best[key] = min(best.get(key, np.inf), seconds)
                results[key] = result
    return best, results, data


def worker(index, rounds):
    """One case in this fresh process: best seconds, no numpy work."""
    kind, case, name = list(cases())[index]
    data = load({kind})
    times = [
        timed(kind, case, name, data, in_script=False)[0] for _ in range(rounds + 1)
    ]
    print(json.dumps(min(times[1:])))


def run_fresh(rounds):
    best = {}
    for index, key in enumerate(cases()):
        command = [
            sys.executable,
            __file__,
            "--worker",
            str(index),
            "--rounds",
            str(rounds),
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        best[key] = json.loads(out.stdout.strip().splitlines()[-1])
    return best


def report(best, errors):
    print("\n| least squares | PinvRegressor (s) | LinearRegression (s) | ratio |")
    print("|---|---:|---:|---:|")
    for shape in SHAPES:
        ours = best[("lstsq", shape, "PinvRegressor()")]
        peer = best[("lstsq", shape, "LinearRegression()")]
        print(
            f"| {shape[0]}×{shape[1]} | {ours:.3f} | {peer:.3f} | {peer / ours:.1f}× |"
        )
    print("\n| least squares | GDRegressor() (s) | SGDMiniBatchRegressor() (s) |")
    print("|---|---:|---:|")
    for shape in SHAPES:
        gd = best[("lstsq", shape, "GDRegressor()")]
        sgd = best[("lstsq", shape, "SGDMiniBatchRegressor()")]
        print(f"| {shape[0]}×{shape[1]} | {gd:.3f} | {sgd:.3f} |")
    names = list(svd_methods())
    for photo_name in PHOTOS:
        print(
            f"\n| {photo_name} 3024×4032, k | "
            + " | ".join(f"{n} (s)" for n in names)
            + " | fastest peer / estimator | fastest peer / solver |"
        )
        print("|---" * (len(names) + 3) + "|")
        for k in RANKS:
            times = [best[("svd", (photo_name, k), n)] for n in names]
            cells = []
            for n, t in zip(names, times, strict=True):
                e = errors.get(("svd", (photo_name, k), n))
                cells.append(f"{t:.3f}" + (f" ({e:.4f})" if e is not None else ""))
            fastest = min(times[2:])
            print(
                f"| {k} | " + " | ".join(cells) + f" | {fastest / times[0]:.2f}"
                f" | {fastest / times[1]:.2f} |"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--worker", type=int, default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.worker is not None:
        return worker(args.worker, args.rounds)
    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        print(
            f"# {pool['internal_api']} {pool.get('version')} {pool.get('architecture')}"
            f" ({pool['num_threads']} threads): {pool['filepath']}"
        )
    if args.fresh:
        print("# each case in a fresh process, no numpy work between fits")
        report(run_fresh(args.rounds), {})
        return
    print("# one process, numpy work before every fit; (error / Eckart–Young optimum)")
    best, results, data = run_in_script(args.rounds)
    errors = {}
    for name in PHOTOS:
        s_exact = np.linalg.svd(data[name].astype(np.float64), compute_uv=False)
        for key, Vt in results.items():
            if key[0] == "svd" and key[1][0] == name:
                errors[key] = error_ratio(data[name], Vt, s_exact, key[1][1])
    report(best, errors)


if __name__ == "__main__":
    main()
