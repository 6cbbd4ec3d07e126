"""GDRegressor against scikit-learn's solvers: time to reach the same objective.

Usage::

    python benchmarks/bench_gd.py            # 200000x100, cond 10 and 1e3
    python benchmarks/bench_gd.py --quick    # 20000x50, a smoke test

All objectives are in GDRegressor's (and SGDRegressor's) scaling,
``mean ½ r² + alpha · R(coef)``; scikit-learn's estimators are given the
equivalent parameters (``Ridge(alpha * n)``, ``Lasso(alpha)``,
``MLPRegressor(alpha * n)``).  For each method, fits with successively tighter
tolerances run until one reaches an objective within ``1e-6`` (relative) of
the optimum; that fit's time and iteration count are reported, with the
speed-up of GDRegressor over it.  The optimum comes from a closed form
(PinvRegressor) where there is one, else from the best of very tight runs.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, HuberRegressor, Lasso, Ridge
from sklearn.neural_network import MLPRegressor

from skla import GDRegressor, PinvRegressor
from skla.datasets import make_spectral_regression

TARGET = 1e-6
ALPHA = 1e-3
L1_RATIO = 0.5
EPSILON = 1.0
TOLS = [10.0**-k for k in range(2, 15, 2)]


def objective(X, y, coef, intercept, loss, penalty):
    r = y - X @ coef - intercept
    if loss == "huber":
        a = np.abs(r)
        data = np.where(a <= EPSILON, 0.5 * r**2, EPSILON * a - 0.5 * EPSILON**2)
    else:
        data = 0.5 * r**2
    value = data.mean()
    if penalty == "l2":
        value += ALPHA * 0.5 * coef @ coef
    elif penalty == "l1":
        value += ALPHA * np.abs(coef).sum()
    elif penalty == "elasticnet":
        value += ALPHA * (
            L1_RATIO * np.abs(coef).sum() + 0.5 * (1 - L1_RATIO) * coef @ coef
        )
    return value


def gd(loss, penalty):
    def make(tol):
        return GDRegressor(
            loss=loss,
            penalty=penalty,
            alpha=ALPHA,
            l1_ratio=L1_RATIO,
            epsilon=EPSILON,
            tol=tol,
            max_iter=20_000,
        )

    return make


def references(loss, penalty, n):
    """scikit-learn methods for this objective: name -> factory(tol)."""
    if loss == "huber":
        return {}
    if penalty in (None, "l2"):
        ridge_alpha = 0.0 if penalty is None else ALPHA * n
        mlp_alpha = 0.0 if penalty is None else ALPHA * n
        methods = {
            f"Ridge({solver!r})": (
                lambda tol, s=solver: Ridge(alpha=ridge_alpha, solver=s, tol=tol)
            )
            for solver in ("lsqr", "sag", "saga")
        }
        methods["MLPRegressor(GD)"] = lambda tol: MLPRegressor(
            hidden_layer_sizes=(),
            batch_size=n,
            alpha=mlp_alpha,
            tol=tol,
            n_iter_no_change=50,
            max_iter=300,
            random_state=0,
        )
        return methods
    if penalty == "l1":
        return {"Lasso (CD)": lambda tol: Lasso(alpha=ALPHA, tol=tol, max_iter=100_000)}
    return {
        "ElasticNet (CD)": lambda tol: ElasticNet(
            alpha=ALPHA, l1_ratio=L1_RATIO, tol=tol, max_iter=100_000
        )
    }


def _coef(model):
    coef = getattr(model, "coef_", None)
    if coef is None:  # MLPRegressor
        return model.coefs_[0].ravel(), float(model.intercepts_[0][0])
    return np.ravel(coef), float(np.ravel(model.intercept_)[0])


def time_to_target(make, X, y, loss, penalty, optimum):
    """First fit in the tolerance sweep that reaches the target accuracy."""
    last = None
    for tol in TOLS:
        model = make(tol)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(X, y)
            elapsed = time.perf_counter() - start
        coef, intercept = _coef(model)
        gap = (objective(X, y, coef, intercept, loss, penalty) - optimum) / optimum
        iters = getattr(model, "n_iter_", None)
        iters = int(np.max(iters)) if iters is not None else None
        last = {"time": elapsed, "gap": gap, "tol": tol, "iters": iters}
        if gap <= TARGET:
            return {**last, "reached": True}
        if elapsed > 30:  # a slow method gets no tighter retries
            break
    return {**last, "reached": False}


def optimum_of(X, y, loss, penalty):
    n = len(X)
    if loss == "squared_error" and penalty in (None, "l2"):
        alpha = 0.0 if penalty is None else ALPHA * n
        model = PinvRegressor(alpha=alpha).fit(X, y)
        return objective(X, y, model.coef_, model.intercept_, loss, penalty)
    candidates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = gd(loss, penalty)(1e-14).set_params(max_iter=100_000).fit(X, y)
        candidates.append(objective(X, y, model.coef_, model.intercept_, loss, penalty))
        for make in references(loss, penalty, n).values():
            if "Ridge" in str(make) or loss != "squared_error":
                continue
            model = make(1e-14).fit(X, y)
            coef, intercept = _coef(model)
            candidates.append(objective(X, y, coef, intercept, loss, penalty))
    return min(candidates)


def run_case(name, X, y):
    print(f"\n**{name}**\n")
    print(
        "| objective | method | time (s) | iterations | tol used | "
        "rel. gap to optimum | GDRegressor speed-up |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    cases = [("squared_error", p) for p in (None, "l2", "l1", "elasticnet")]
    cases.append(("huber", "l2"))
    for loss, penalty in cases:
        label = f"{loss} + {penalty}" if penalty else loss
        optimum = optimum_of(X, y, loss, penalty)
        ours = time_to_target(gd(loss, penalty), X, y, loss, penalty, optimum)
        rows = {"GDRegressor": ours}
        for method, make in references(loss, penalty, len(X)).items():
            rows[method] = time_to_target(make, X, y, loss, penalty, optimum)
        if loss == "huber":
            start = time.perf_counter()
            HuberRegressor(epsilon=1.35, alpha=ALPHA * len(X), max_iter=1000).fit(X, y)
            rows["HuberRegressor (own objective)"] = {
                "time": time.perf_counter() - start,
                "gap": float("nan"),
                "tol": None,
                "iters": None,
                "reached": None,
            }
        for method, row in rows.items():
            reached = "" if row["reached"] is not False else " (not reached)"
            ratio = row["time"] / ours["time"]
            print(
                f"| {label} | {method} | {row['time']:.3f}{reached} | "
                f"{row['iters'] if row['iters'] is not None else '–'} | "
                f"{row['tol'] if row['tol'] is not None else '–'} | "
                f"{row['gap']:.1e} | {ratio:.2f}× |",
                flush=True,
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20000x50 only")
    args = parser.parse_args(argv)
    shape = (20_000, 50) if args.quick else (200_000, 100)
    for cond in (10.0, 1e3):
        X, y, _ = make_spectral_regression(
            *shape, cond=cond, noise=1.0, offset=1.0, random_state=0
        )
        run_case(f"{shape[0]}x{shape[1]}, cond {cond:g}", X, y)


if __name__ == "__main__":
    main()
