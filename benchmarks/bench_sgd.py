"""SGDMiniBatchRegressor against scikit-learn's SGD: time per epoch and to accuracy.

Usage::

    python benchmarks/bench_sgd.py            # 200000x100 float64, ~3 minutes
    python benchmarks/bench_sgd.py --quick    # 20000x50, a smoke test

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
  median time of a fit with that E.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.datasets import make_regression
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

# eta0 scaled with the batch size (the linear scaling rule) for larger batches.
ACCURACY_METHODS = {
    "SGDRegressor (per sample)": sgd_regressor,
    "MLPRegressor(hidden_layer_sizes=(), batch_size=32)": mlp(32),
    "SGDMiniBatchRegressor(batch_size=32)": ours(32),
    "SGDMiniBatchRegressor(batch_size=256)": ours(256),
    "SGDMiniBatchRegressor(batch_size=256, eta0=0.08)": ours(256, eta0=0.08),
    "SGDMiniBatchRegressor(batch_size=1024, eta0=0.32)": ours(1024, eta0=0.32),
}


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
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
    reference = np.median([s for s, _ in fits["SGDRegressor (per sample)"]])
    print(f"\nTime to R² within {TARGET:g} of the optimum:\n")
    print("| method | epochs | time (s) | speed-up vs SGDRegressor | R² gap |")
    print("|---|---:|---:|---:|---:|")
    for name in ACCURACY_METHODS:
        if epochs[name] is None:
            print(f"| {name} | > {EPOCHS[-1]} | | | |")
            continue
        seconds = np.median([s for s, _ in fits[name]])
        gap = fits[name][0][1]
        print(
            f"| {name} | {epochs[name]} | {seconds:.3f} | "
            f"{reference / seconds:.2f}× | {gap:.1e} |"
        )


if __name__ == "__main__":
    main()
