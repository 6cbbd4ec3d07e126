"""TruncatedSVDCompressor's ``fit`` against its ``fit_transform``, in a script.

``fit`` returns no coordinates and forms no n × k array; ``fit_transform``
returns ``X V_k``, equal to ``transform(X)`` to the last bit.  Both on the
bundled photos in grey at the seed's 3024 × 4032 (float32), ranks 1 to 64,
with numpy work before every fit (as ``bench_in_script.py``); a time is the
best of ``--rounds`` rounds after one untimed round.  ``--fresh`` runs
each (method, photo, rank) in its own process instead, with no numpy work.
To compare with an older commit, run it again with ``PYTHONPATH`` at a
worktree of that commit.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_svd_fit_transform.py [--rounds 3] [--fresh]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings
from pathlib import Path

from bench_in_script import PHOTOS, RANKS, numpy_work, photo

from skla import TruncatedSVDCompressor

HERE = Path(__file__).parent


def best_times(method, data, rounds, ranks=RANKS, in_script=True):
    """{(photo, k): best seconds of ``method`` over ``rounds`` timed rounds}."""
    best = {}
    for turn in range(rounds + 1):
        for name, A in data.items():
            for k in ranks:
                if in_script:
                    numpy_work()
                estimator = TruncatedSVDCompressor(k, random_state=0)
                start = time.perf_counter()
                getattr(estimator, method)(A)
                seconds = time.perf_counter() - start
                if turn:  # the first round warms up
                    best[name, k] = min(best.get((name, k), seconds), seconds)
    return best


def fresh_times(method, rounds):
    """:func:`best_times` with each (photo, rank) in a fresh process."""
    best = {}
    for name in PHOTOS:
        for k in RANKS:
            command = [sys.executable, __file__, "--worker", method, name, str(k)]
            command += ["--rounds", str(rounds)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            best[name, k] = float(out.stdout.split()[-1])
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--worker", nargs=3, metavar=("METHOD", "PHOTO", "K"))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.worker:
        method, name, k = args.worker
        data = {name: photo(name)}
        times = best_times(method, data, args.rounds, (int(k),), in_script=False)
        print(times[name, int(k)])
        return
    if args.fresh:
        fit = fresh_times("fit", args.rounds)
        both = fresh_times("fit_transform", args.rounds)
    else:
        data = {name: photo(name) for name in PHOTOS}
        fit = best_times("fit", data, args.rounds)
        both = best_times("fit_transform", data, args.rounds)
    print("# each case in a fresh process" if args.fresh else "# in a script")
    print("| photo | k | fit (s) | fit_transform (s) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name in PHOTOS:
        for k in RANKS:
            a, b = fit[name, k], both[name, k]
            print(f"| {name} | {k} | {a:.3f} | {b:.3f} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
