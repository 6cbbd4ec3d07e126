"""How close each fit runs to this machine's limits: a roofline table.

Measures the machine's peaks the same day -- a large ``dgemm`` (GFLOP/s)
and a STREAM-like copy (GB/s, bytes read plus written) -- then the main
fits, each reported as achieved GFLOP/s (where the work has a clear count:
the Gram products ``n·d²``) and GB/s (X's bytes over the time: how many
"passes over X" the fit costs), and the ratios issue 25 asks about:

- ``PinvRegressor().fit`` against one Gram product ``XᵀX`` (scipy's
  ``syrk``, the floor of the Gram route);
- ``PinvRegressor.partial_fit`` over 8 chunks against ``fit`` on all rows;
- ``TruncatedSVDCompressor`` against the fastest of ``svds(propack)``,
  ``TruncatedSVD(arpack)`` and ``TruncatedSVD(randomized)`` at ranks 1..64,
  on both photos (china, flower) in float64 and float32;
- ``SGDMiniBatchRegressor`` epochs against ``SGDRegressor``'s, at batch sizes
  1 to n.  With numba installed, a script's first large batch-1 epoch loads
  it and the later cases run compiled; with ``--fresh`` each case's process
  loads it only if its epochs ask for enough updates (see
  ``skla._algorithms.compiled``).

By default in a script (numpy work before every timed call, as
``bench_in_script.py``), the cases that a ratio compares timed in turn
(:func:`group`, :func:`interleaved`); ``--fresh`` runs each case in its
own process.  A time is the best of ``--repeats`` calls after one untimed
call; ``--only`` keeps the cases whose name contains one of its words (e.g.
``--only svd``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_roofline.py [--fresh] [--repeats 3] [--only svd]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import warnings

import numpy as np
from bench_in_script import numpy_work, photo
from scipy.linalg import get_blas_funcs

RANKS = (1, 2, 4, 8, 16, 32, 64)
PHOTOS = ("china", "flower")
DTYPES = ("float64", "float32")
SVD_PEERS = ("propack", "arpack", "randomized")


def _svd_case(method, k, name, dtype):
    """The name of an SVD case (china float64's as before the other three)."""
    kind = "" if dtype == "float64" else f" {dtype}"
    return f"svd {method} rank {k} {name}{kind} 3024x4032"


# SGD epochs at these batch sizes (200000: one batch, full-batch gradient).
SGD_BATCHES = (1, 8, 32, 256, 200_000)


def _regression(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2, d) + 10
    return X, X @ rng.standard_normal(d) + rng.standard_normal(n)


def _best(call, repeats, in_script):
    call()  # warm up: imports, thread pools, page faults
    times = []
    for _ in range(repeats):
        if in_script:
            numpy_work()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def _gemm():
    A = np.random.default_rng(0).standard_normal((4000, 4000))
    return (lambda: A @ A), 2 * 4000**3, 3 * A.nbytes


def _copy():
    a = np.ones(2**25)  # 256 MiB
    b = np.empty_like(a)
    return (lambda: np.copyto(b, a)), 0, 2 * a.nbytes


def _syrk(n, d):
    X, _ = _regression(n, d)
    syrk = get_blas_funcs("syrk", dtype=np.float64)
    return (lambda: syrk(1.0, X.T)), n * d * d, X.nbytes


def _pinv(n, d):
    from skla import PinvRegressor

    X, y = _regression(n, d)
    return (lambda: PinvRegressor().fit(X, y)), n * d * d, X.nbytes


def _stream(n, d, chunks=8, estimator="PinvRegressor"):
    import skla

    X, y = _regression(n, d)
    rows = np.array_split(np.arange(n), chunks)

    def stream():
        model = getattr(skla, estimator)()
        for r in rows:
            model.partial_fit(X[r[0] : r[-1] + 1], y[r[0] : r[-1] + 1])
        return model.coef_  # read once: the solve the stream pays for

    return stream, n * d * d, X.nbytes


def _gd(n, d):
    from skla import GDRegressor

    X, y = _regression(n, d)
    return (lambda: GDRegressor().fit(X, y)), n * d * d, X.nbytes


def _sgd(n, d, batch, skla=True):
    from sklearn.linear_model import SGDRegressor

    from skla import SGDMiniBatchRegressor

    X, y = _regression(n, d)
    X = (X - X.mean(0)) / X.std(0)  # SGDRegressor needs scaled features
    if skla:  # tol=None: one epoch, no stopping checks (as SGDRegressor's)
        model = SGDMiniBatchRegressor(
            batch_size=batch, max_iter=1, tol=None, random_state=0
        )
    else:
        model = SGDRegressor(max_iter=1, tol=None, random_state=0)

    def epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one epoch, not to convergence
            model.fit(X, y)

    return epoch, 2 * n * d, X.nbytes


def _sgd_partial(n, d, batch, skla=True):
    """One more epoch of a model already fitted for one: ``partial_fit``,
    whose first call pays the calibration (the step cap, the moments)."""
    from sklearn.linear_model import SGDRegressor

    from skla import SGDMiniBatchRegressor

    X, y = _regression(n, d)
    X = (X - X.mean(0)) / X.std(0)
    if skla:
        model = SGDMiniBatchRegressor(batch_size=batch, random_state=0)
    else:
        model = SGDRegressor(random_state=0)
    model.partial_fit(X, y)
    return (lambda: model.partial_fit(X, y)), 2 * n * d, X.nbytes


def _svd(method, k, name="china.jpg", dtype="float64"):
    from scipy.sparse.linalg import svds
    from sklearn.decomposition import TruncatedSVD

    from skla import TruncatedSVDCompressor

    A = photo(name).astype(dtype)
    calls = {
        "skla": lambda: TruncatedSVDCompressor(k, random_state=0).fit(A),
        "propack": lambda: svds(A, k, solver="propack", random_state=0),
        "arpack": lambda: TruncatedSVD(k + (k == A.shape[1]), algorithm="arpack").fit(
            A
        ),
        "randomized": lambda: TruncatedSVD(k, random_state=0).fit(A),
    }
    return calls[method], 0, A.nbytes


CASES = {
    "dgemm 4000": (_gemm, ()),
    "copy 256 MiB": (_copy, ()),
    "syrk 200000x100": (_syrk, (200_000, 100)),
    "syrk 20000x1000": (_syrk, (20_000, 1000)),
    "pinv fit 200000x100": (_pinv, (200_000, 100)),
    "pinv fit 20000x1000": (_pinv, (20_000, 1000)),
    "pinv fit 400000x100": (_pinv, (400_000, 100)),
    "pinv partial_fit 8x50000x100": (_stream, (400_000, 100)),
    "gd fit 200000x100": (_gd, (200_000, 100)),
    "gd fit 400000x100": (_gd, (400_000, 100)),
    "gd partial_fit 8x50000x100": (_stream, (400_000, 100, 8, "GDRegressor")),
    **{
        f"sgd epoch batch {b} 200000x100": (_sgd, (200_000, 100, b))
        for b in SGD_BATCHES
    },
    "SGDRegressor epoch 200000x100": (_sgd, (200_000, 100, 1, False)),
    **{
        f"sgd partial_fit epoch batch {b} 200000x100": (_sgd_partial, (200_000, 100, b))
        for b in SGD_BATCHES
    },
    "SGDRegressor partial_fit epoch 200000x100": (
        _sgd_partial,
        (200_000, 100, 1, False),
    ),
    **{
        _svd_case(m, k, name, dtype): (_svd, (m, k, f"{name}.jpg", dtype))
        for name in PHOTOS
        for dtype in DTYPES
        for k in RANKS
        for m in ("skla", *SVD_PEERS)
    },
}


def measure(name, repeats, in_script=True):
    """``(seconds, flops, bytes)`` of one case."""
    make, args = CASES[name]
    call, flops, nbytes = make(*args)
    return _best(call, repeats, in_script), flops, nbytes


# Seconds between two cases timed in turn: OpenBLAS's idle threads spin
# for about 0.1 s before they sleep.
SETTLE = 0.25


def group(name):
    """The cases timed side by side in a script: an SVD rank's four
    methods, the SGD epochs, the Gram route and its floor, the streams and
    their fits."""
    if name.startswith("svd "):
        return re.sub(r"^svd \S+ ", "svd ", name)
    for word in ("partial_fit epoch", "epoch"):
        if "sgd " + word in name or "SGDRegressor " + word in name:
            return "sgd " + word
    shape = name.split()[-1]
    if name.startswith(("syrk", "pinv fit")) and shape != "400000x100":
        return "gram " + shape
    if "400000x100" in name or "8x50000x100" in name:
        return "streams"
    return name


def interleaved(names, repeats):
    """``{name: (seconds, flops, bytes)}`` of cases timed in turn.

    Each round times every case once, numpy work before each; a case's
    time is its best round.  On this shared machine a case timed on its
    own can fall in a slow spell (twice as slow for a few seconds) that
    its peers miss; in turn, every case sees the same spells.  Between two
    cases the BLAS pools are left to fall asleep (:data:`SETTLE`): the
    threads of scipy's pool, woken by one case, spin for a while and would
    slow the next case's calls on numpy's pool, a neighbour that a script
    doing numpy work between fits does not have.
    """
    made = {name: CASES[name][0](*CASES[name][1]) for name in names}
    for call, _, _ in made.values():
        call()  # warm up: imports, thread pools, page faults
    best = dict.fromkeys(names, np.inf)
    for _ in range(repeats):
        for name, (call, _, _) in made.items():
            time.sleep(SETTLE)
            numpy_work()
            start = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: (best[name], *made[name][1:]) for name in names}


def run_all(repeats, fresh, only=None):
    names = [name for name in CASES if not only or any(word in name for word in only)]
    results = {}
    if fresh:
        for name in names:
            command = [sys.executable, __file__, "--worker", name]
            command += ["--repeats", str(repeats)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            results[name] = tuple(float(v) for v in out.stdout.split())
            print(f"{name}: {results[name][0]:.4f} s", file=sys.stderr)
        return results
    groups = {}
    for name in names:
        groups.setdefault(group(name), []).append(name)
    for members in groups.values():
        results.update(interleaved(members, repeats))
        for name in members:
            print(f"{name}: {results[name][0]:.4f} s", file=sys.stderr)
    return {name: results[name] for name in names}


def report(results):
    t = {name: r[0] for name, r in results.items()}
    if "dgemm 4000" in t and "copy 256 MiB" in t:
        peak_flops = results["dgemm 4000"][1] / t["dgemm 4000"] / 1e9
        peak_bytes = results["copy 256 MiB"][2] / t["copy 256 MiB"] / 1e9
        print(f"peaks: dgemm {peak_flops:.1f} GFLOP/s, copy {peak_bytes:.1f} GB/s\n")
    else:
        peak_flops = peak_bytes = float("nan")
    print("| case | time (s) | GFLOP/s | of dgemm | GB/s of X | of copy |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (seconds, flops, nbytes) in results.items():
        gflops = flops / seconds / 1e9
        gbytes = nbytes / seconds / 1e9
        rate = f"{gflops:.1f} | {gflops / peak_flops:.0%}" if flops else "– | –"
        print(
            f"| {name} | {seconds:.4f} | {rate} | {gbytes:.2f} | "
            f"{gbytes / peak_bytes:.0%} |"
        )
    print("\n| ratio | value |\n|---|---:|")
    for d, n in ((100, 200_000), (1000, 20_000)):
        if f"pinv fit {n}x{d}" in t and f"syrk {n}x{d}" in t:
            ratio = t[f"pinv fit {n}x{d}"] / t[f"syrk {n}x{d}"]
            print(f"| pinv fit / syrk, {n}x{d} | {ratio:.2f} |")
    if "pinv partial_fit 8x50000x100" in t and "pinv fit 400000x100" in t:
        print(
            f"| partial_fit 8 chunks / fit, 400000x100 | "
            f"{t['pinv partial_fit 8x50000x100'] / t['pinv fit 400000x100']:.2f} |"
        )
    if "gd partial_fit 8x50000x100" in t and "gd fit 400000x100" in t:
        print(
            f"| GD partial_fit 8 chunks / fit, 400000x100 | "
            f"{t['gd partial_fit 8x50000x100'] / t['gd fit 400000x100']:.2f} |"
        )
    for kind in ("epoch", "partial_fit epoch"):
        sgd = t.get(f"SGDRegressor {kind} 200000x100")
        for b in SGD_BATCHES:
            if sgd and f"sgd {kind} batch {b} 200000x100" in t:
                ratio = t[f"sgd {kind} batch {b} 200000x100"] / sgd
                print(f"| SGD {kind} batch {b} / SGDRegressor's | {ratio:.2f} |")
    _svd_ratios(t)


def _svd_ratios(t):
    """Fastest peer over skla, for every photo, dtype and rank measured."""
    for name in PHOTOS:
        for dtype in DTYPES:
            for k in RANKS:
                cases = [_svd_case(m, k, name, dtype) for m in ("skla", *SVD_PEERS)]
                if not all(case in t for case in cases):
                    continue
                fastest = min(t[case] for case in cases[1:])
                print(
                    f"| fastest peer / skla, svd rank {k} ({name}, {dtype}) | "
                    f"{fastest / t[cases[0]]:.2f} |"
                )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--only", nargs="+", help="words a case name contains")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(*measure(args.worker, args.repeats, in_script=False))
        return
    report(run_all(args.repeats, args.fresh, args.only))


if __name__ == "__main__":
    main()
