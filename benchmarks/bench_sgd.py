"""SGDMiniBatchRegressor against scikit-learn's SGD: time per epoch and to accuracy.

Usage::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_sgd.py
    python benchmarks/bench_sgd.py --quick    # 20000x50, a smoke test

(the full run, 200000x100 float64, takes about 3 minutes).

Data: ``make_regression(n, d, noise=5, random_state=0)``.  Every method fits an
intercept with the default ``alpha=1e-4`` L2 penalty (MLPRegressor gets the
equivalent ``alpha * batch_size``: it divides its penalty by the number of
samples in each batch).

* **Seconds per epoch**: a fit with ``max_iter=E`` and no early stopping,
  divided by E (so the fixed cost of a fit -- input checks, set-up -- is
  spread over E epochs, for every method alike).  The methods take turns for
  ``--rounds`` rounds; the median is reported, with the speed-up over
  SGDRegressor.
* **Peak extra memory**: tracemalloc's peak during a one-epoch fit, as a
  multiple of the size of X (a separate, untimed fit).
* **Time to accuracy**: the smallest number of epochs E in 1, 2, 4, ... after
  which the training R² is within 1e-3 of the optimum (Ridge's), and the
  median time of a fit with that E.  Every method at its defaults but for the
  batch size (``learning_rate="auto"`` for ours; SGDRegressor's
  ``"invscaling"`` with ``eta0=0.01``), plus ours with SGDRegressor's schedule.
  Timed twice: in this process, the methods taking turns (as in a script that
  fits several models), and each fit alone in a fresh process (the data made,
  then one timed fit), median of ``--rounds`` processes.
* **At defaults, on raw data**: the training R² of SGDRegressor and of ours at
  batch sizes 1, 32 and 256, every parameter at its default (``tol`` too),
  on scikit-learn's diabetes data, the same times 1000, ``make_regression``
  4000x20 and that data with columns scaled by 10^U(-3, 3), then also offset
  by ±100 with y + 500; and the optimum of the objective.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.neural_network import MLPRegressor

from skla import SGDMiniBatchRegressor

ALPHA = 1e-4
TARGET = 1e-3
EPOCHS = [1, 2, 4, 8, 16]


def sgd_regressor(n):
    return SGDRegressor(alpha=ALPHA, tol=None, random_state=0)


def mlp(batch_size):
    def make(n):
        # No hidden layer: a linear model trained by mini-batch SGD (with
        # scikit-learn's default momentum).
        return MLPRegressor(
            hidden_layer_sizes=(),
            solver="sgd",
            batch_size=batch_size,
            alpha=ALPHA * batch_size,  # MLP scales its penalty per batch
            learning_rate_init=0.001,
            tol=0.0,
            n_iter_no_change=10**9,
            random_state=0,
        )

    return make


def ours(batch_size, **params):
    def make(n):
        return SGDMiniBatchRegressor(
            batch_size=batch_size, alpha=ALPHA, tol=None, random_state=0, **params
        )

    return make


# name -> factory(n_samples); epochs timed per round.
EPOCH_METHODS = {
    "SGDRegressor (per sample)": (sgd_regressor, 3),
    "MLPRegressor(hidden_layer_sizes=(), batch_size=32)": (mlp(32), 1),
    "MLPRegressor(hidden_layer_sizes=(), batch_size=256)": (mlp(256), 1),
    "SGDMiniBatchRegressor(batch_size=1)": (ours(1), 1),
    "SGDMiniBatchRegressor(batch_size=32)": (ours(32), 3),
    "SGDMiniBatchRegressor(batch_size=256)": (ours(256), 3),
    "SGDMiniBatchRegressor(batch_size=1024)": (ours(1024), 3),
}

# At defaults: no hand-tuned eta0 ("auto" measures its step).
ACCURACY_METHODS = {
    "SGDRegressor (per sample)": sgd_regressor,
    "MLPRegressor(hidden_layer_sizes=(), batch_size=32)": mlp(32),
    "SGDMiniBatchRegressor(batch_size=32)": ours(32),
    "SGDMiniBatchRegressor(batch_size=256)": ours(256),
    "SGDMiniBatchRegressor(batch_size=1024)": ours(1024),
    "SGDMiniBatchRegressor(batch_size=256, learning_rate='invscaling')": ours(
        256, learning_rate="invscaling"
    ),
}


def raw_datasets():
    """The data sets of the defaults table: name -> (X, y)."""
    X, y = load_diabetes(return_X_y=True)
    data = {"diabetes": (X, y), "diabetes × 1000": (X * 1000, y)}
    X, y = make_regression(4000, 20, noise=10, random_state=0)
    rng = np.random.default_rng(0)
    scaled = X * 10 ** rng.uniform(-3, 3, 20)
    offsets = rng.choice([-100.0, 100.0], 20)
    data["make_regression(4000, 20)"] = (X, y)
    data["  columns × 10^U(-3, 3)"] = (scaled, y)
    data["  and offsets ±100, y + 500"] = (scaled + offsets, y + 500)
    return data


def defaults_table():
    """R² at every default on raw data, against the optimum."""
    print("\nR² at defaults (only batch_size set), raw data, random_state=0:\n")
    print(
        "| data | optimum | SGDRegressor | ours, batch 1 | ours, batch 32 "
        "| ours, batch 256 |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, (X, y) in raw_datasets().items():
        optimum = Ridge(alpha=ALPHA * len(y)).fit(X, y).score(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = SGDRegressor(random_state=0).fit(X, y).score(X, y)
            ours_ = [
                SGDMiniBatchRegressor(batch_size=b, random_state=0)
                .fit(X, y)
                .score(X, y)
                for b in (1, 32, 256)
            ]
        cells = " | ".join(f"{r:.4f}" for r in ours_)
        print(f"| {name} | {optimum:.4f} | {theirs:.3g} | {cells} |")


def timed_fit(make, X, y, epochs):
    est = make(len(y)).set_params(max_iter=epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start, est


def peak_memory(make, X, y):
    tracemalloc.start()
    try:
        timed_fit(make, X, y, 1)
        return tracemalloc.get_traced_memory()[1] / X.nbytes
    finally:
        tracemalloc.stop()


def epochs_to_accuracy(make, X, y, optimum):
    """The smallest E in EPOCHS whose fit reaches the target, or None."""
    for epochs in EPOCHS:
        _, est = timed_fit(make, X, y, epochs)
        if est.score(X, y) >= optimum - TARGET:
            return epochs
    return None


def fresh_process_seconds(name, n, d, epochs):
    """One fit of ACCURACY_METHODS[name] in a new interpreter, in seconds."""
    code = (
        "import sys, warnings; sys.path.insert(0, sys.argv[1]); "
        "warnings.simplefilter('ignore'); import bench_sgd as b; "
        "from sklearn.datasets import make_regression; "
        f"X, y = make_regression(n_samples={n}, n_features={d}, noise=5, "
        "random_state=0); "
        f"print(b.timed_fit(b.ACCURACY_METHODS[{name!r}], X, y, {epochs})[0])"
    )
    here = str(__import__("pathlib").Path(__file__).resolve().parent)
    out = subprocess.run(
        [sys.executable, "-c", code, here], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    defaults_table()
    n, d = (20_000, 50) if args.quick else (200_000, 100)
    X, y = make_regression(n_samples=n, n_features=d, noise=5, random_state=0)
    optimum = Ridge(alpha=ALPHA * n).fit(X, y).score(X, y)
    print(f"# {n}x{d} float64 ({X.nbytes / 2**20:.0f} MiB), optimum R² {optimum:.6f}")

    times = {name: [] for name in EPOCH_METHODS}
    for _ in range(args.rounds):
        for name, (make, epochs) in EPOCH_METHODS.items():
            times[name].append(timed_fit(make, X, y, epochs)[0] / epochs)
    reference = np.median(times["SGDRegressor (per sample)"])
    print(
        "\n| method | s / epoch | speed-up vs SGDRegressor | peak extra memory (× X) |"
    )
    print("|---|---:|---:|---:|")
    for name, (make, _) in EPOCH_METHODS.items():
        per_epoch = np.median(times[name])
        memory = peak_memory(make, X, y)
        print(
            f"| {name} | {per_epoch:.4f} | {reference / per_epoch:.2f}× "
            f"| {memory:.3f} |"
        )

    epochs = {
        name: epochs_to_accuracy(make, X, y, optimum)
        for name, make in ACCURACY_METHODS.items()
    }
    fits = {name: [] for name in ACCURACY_METHODS}
    for _ in range(args.rounds):
        for name, make in ACCURACY_METHODS.items():
            if epochs[name] is not None:
                seconds, est = timed_fit(make, X, y, epochs[name])
                fits[name].append((seconds, optimum - est.score(X, y)))
    fresh = {
        name: [fresh_process_seconds(name, n, d, epochs[name]) for _ in range(3)]
        for name in ACCURACY_METHODS
        if epochs[name] is not None
    }
    reference = np.median([s for s, _ in fits["SGDRegressor (per sample)"]])
    fresh_reference = np.median(fresh["SGDRegressor (per sample)"])
    print(f"\nTime to R² within {TARGET:g} of the optimum, at defaults:\n")
    print(
        "| method | epochs | time in a script (s) | speed-up | time in a fresh "
        "process (s) | speed-up | R² gap |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in ACCURACY_METHODS:
        if epochs[name] is None:
            print(f"| {name} | > {EPOCHS[-1]} | | | | | |")
            continue
        seconds = np.median([s for s, _ in fits[name]])
        cold = np.median(fresh[name])
        gap = fits[name][0][1]
        print(
            f"| {name} | {epochs[name]} | {seconds:.3f} | "
            f"{reference / seconds:.2f}× | {cold:.3f} | {fresh_reference / cold:.2f}× "
            f"| {gap:.1e} |"
        )


if __name__ == "__main__":
    main()
