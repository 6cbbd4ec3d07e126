"""Two checkouts of skla side by side: does a change make any estimator slower?

For refactors (issue 12: "no slowdown"), times the same jobs with skla
imported from two source trees, each job in a fresh process, the trees
taking turns round after round; a job's time is its best fit over all
rounds.  ``--in-script`` runs numpy BLAS work right before every fit, as a
user's script does.  Make the base tree with
``git worktree add /tmp/base <commit>``::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_compare.py --base /tmp/base
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

JOBS = {
    # name: (what, shape or rank); the data are made in the worker
    "pinv 200000x100": ("pinv", (200_000, 100)),
    "pinv 20000x1000": ("pinv", (20_000, 1000)),
    "gd squared 200000x100": ("gd_squared", (200_000, 100)),
    "gd l1 200000x100": ("gd_l1", (200_000, 100)),
    "gd huber 20000x50": ("gd_huber", (20_000, 50)),
    "sgd 5 epochs 200000x100": ("sgd", (200_000, 100)),
    "sgd huber 5 epochs 50000x50": ("sgd_huber", (50_000, 50)),
    "svd rank 1 photo 3024x4032": ("svd", 1),
    "svd rank 8 photo 3024x4032": ("svd", 8),
    "svd rank 64 photo 3024x4032": ("svd", 64),
}


def _data(shape):
    import numpy as np

    rng = np.random.default_rng(0)
    n, d = shape
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2, d) + 10
    return X, X @ rng.standard_normal(d) + rng.standard_normal(n)


def _photo():
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_sample_image

    image = Image.fromarray(load_sample_image("china.jpg")).convert("L")
    return np.asarray(image.resize((4032, 3024)), dtype=np.float64)


def _estimator(what, arg):
    import skla

    return {
        "pinv": lambda: skla.PinvRegressor(),
        "gd_squared": lambda: skla.GDRegressor(tol=1e-8),
        "gd_l1": lambda: skla.GDRegressor(penalty="l1", alpha=0.01, tol=1e-8),
        "gd_huber": lambda: skla.GDRegressor(loss="huber", tol=1e-6),
        "sgd": lambda: skla.SGDMiniBatchRegressor(max_iter=5, tol=None, random_state=0),
        "sgd_huber": lambda: skla.SGDMiniBatchRegressor(
            loss="huber", max_iter=5, tol=None, random_state=0
        ),
        "svd": lambda: skla.TruncatedSVDCompressor(arg),
    }[what]()


def _numpy_work(size=600):
    """What a user's script does between fits: numpy BLAS work (numpy's
    OpenBLAS pool, whose threads then spin against scipy's)."""
    import numpy as np

    a = np.random.default_rng(1).standard_normal((size, size))
    for _ in range(3):
        a = a @ a.T / size


def worker(root, job, repeats, in_script=False):
    """Best of ``repeats`` fits of one job, skla imported from ``root``;
    ``in_script``: numpy work right before every fit."""
    sys.path.insert(0, root)
    import warnings

    import skla

    if not skla.__file__.startswith(root):
        raise SystemExit(f"skla came from {skla.__file__}, not {root}")
    what, arg = JOBS[job]
    data = (_photo(),) if what == "svd" else _data(arg)
    warnings.simplefilter("ignore")
    best = float("inf")
    for _ in range(repeats):
        estimator = _estimator(what, arg)
        if in_script:
            _numpy_work()
        start = time.perf_counter()
        estimator.fit(*data)
        best = min(best, time.perf_counter() - start)
    print(json.dumps(best))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the other source tree")
    parser.add_argument("--new", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5, help="fits per process")
    parser.add_argument("--jobs", default=",".join(JOBS), help="comma-separated")
    parser.add_argument(
        "--in-script",
        action="store_true",
        help="numpy BLAS work right before every fit, as in a user's script",
    )
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker, args.repeats, args.in_script)
    trees = {"base": str(Path(args.base).resolve()), "new": args.new}
    jobs = args.jobs.split(",")
    times = {}
    for r in range(args.rounds):
        for job in jobs:
            order = list(trees.items())
            for name, root in order if r % 2 == 0 else order[::-1]:
                command = [sys.executable, __file__, "--worker", root, job]
                command += ["--base", root, "--repeats", str(args.repeats)]
                command += ["--in-script"] if args.in_script else []
                out = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    env=os.environ,
                    cwd="/",
                    check=True,
                )
                best = json.loads(out.stdout.strip().splitlines()[-1])
                times[job, name] = min(times.get((job, name), best), best)
    print("| job | base (s) | new (s) | new / base |\n|---|---:|---:|---:|")
    for job in jobs:
        base, new = times[job, "base"], times[job, "new"]
        print(f"| {job} | {base:.4f} | {new:.4f} | {new / base:.2f} |")


if __name__ == "__main__":
    main()
