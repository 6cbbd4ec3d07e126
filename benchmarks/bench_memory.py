"""Peak extra memory of a fit, as a multiple of X, side by side with scikit-learn.

Usage::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_memory.py
    python benchmarks/bench_memory.py --quick    # 20000x100, a smoke test

Each fit runs in its own fresh process (so one method's freed buffers do not
hide another's), after one small warm-up fit.  Two peaks, each over the fit
only and divided by the size of X (float64): tracemalloc's (what Python and
numpy allocate) and the growth of the process's peak RSS (what the machine
saw, LAPACK's and OpenBLAS's own buffers included; X is made in place so
that the peak before the fit is X itself).  Data: a 200000×100 matrix with a
decaying spectrum (columns scaled by 0.97^j), or Gaussian with
``--gaussian`` (a fraction 0.9 of its energy then takes k = 90), and
targets linear in it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

METHODS = {
    "TruncatedSVDCompressor(2)": "from skla import TruncatedSVDCompressor as E; "
    "e = E(2, random_state=0)",
    "TruncatedSVDCompressor(0.9)": "from skla import TruncatedSVDCompressor as E; "
    "e = E(0.9, random_state=0)",
    "TruncatedSVDCompressor(2, algorithm='randomized')": "from skla import "
    "TruncatedSVDCompressor as E; e = E(2, algorithm='randomized', random_state=0)",
    "TruncatedSVDCompressor(2, algorithm='arpack')": "from skla import "
    "TruncatedSVDCompressor as E; e = E(2, algorithm='arpack', random_state=0)",
    "TruncatedSVDCompressor(2, algorithm='propack')": "from skla import "
    "TruncatedSVDCompressor as E; e = E(2, algorithm='propack', random_state=0)",
    "TruncatedSVDCompressor(0.9, algorithm='randomized')": "from skla import "
    "TruncatedSVDCompressor as E; e = E(0.9, algorithm='randomized', random_state=0)",
    "TruncatedSVDCompressor(0.9, algorithm='lanczos')": "from skla import "
    "TruncatedSVDCompressor as E; e = E(0.9, algorithm='lanczos', random_state=0)",
    "TruncatedSVDCompressor(88, algorithm='arpack')": "from skla import "
    "TruncatedSVDCompressor as E; e = E(88, algorithm='arpack', random_state=0)",
    "TruncatedSVDCompressor(88, algorithm='propack')": "from skla import "
    "TruncatedSVDCompressor as E; e = E(88, algorithm='propack', random_state=0)",
    "TruncatedSVDCompressor(0.9).fit_transform": "from skla import "
    "TruncatedSVDCompressor as E; e = E(0.9, random_state=0); e.fit = e.fit_transform",
    "TruncatedSVDCompressor(2, algorithm='full')": "from skla import "
    "TruncatedSVDCompressor as E; e = E(2, algorithm='full')",
    "TruncatedSVD(2) (scikit-learn, randomized)": "from sklearn.decomposition "
    "import TruncatedSVD as E; e = E(2, random_state=0)",
    "PinvRegressor()": "from skla import PinvRegressor as E; e = E()",
    "PinvRegressor(solver='qr')": "from skla import PinvRegressor as E; "
    "e = E(solver='qr')",
    "PinvRegressor(solver='gram')": "from skla import PinvRegressor as E; "
    "e = E(solver='gram')",
    "PinvRegressor(solver='lsqr')": "from skla import PinvRegressor as E; "
    "e = E(solver='lsqr')",
    "PinvRegressor(solver='svd')": "from skla import PinvRegressor as E; "
    "e = E(solver='svd')",
    "GDRegressor()": "from skla import GDRegressor as E; e = E()",
    "GDRegressor(loss='huber')": "from skla import GDRegressor as E; "
    "e = E(loss='huber', max_iter=20)",
    "LinearRegression() (scikit-learn)": "from sklearn.linear_model import "
    "LinearRegression as E; e = E()",
}

SCRIPT = """
import resource, sys, tracemalloc, numpy as np
n, d, gaussian = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
rng = np.random.default_rng(0)
X = rng.standard_normal((n, d))
if not gaussian:
    X *= 0.97 ** np.arange(d)  # in place: the peak before the fit is X
y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
{setup}
fit = (lambda: e.fit(X, y)) if hasattr(e, "predict") else (lambda: e.fit(X))
from sklearn.base import clone
warm = clone(e)
warm.fit(X[:500], y[:500]) if hasattr(e, "predict") else warm.fit(X[:500])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
fit()
traced = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(traced / X.nbytes, rss / X.nbytes)
"""


def peak(name, n, d, gaussian=False):
    """(tracemalloc's peak, peak-RSS growth) of one fit, as multiples of X."""
    code = SCRIPT.format(setup=METHODS[name])
    out = subprocess.run(
        [sys.executable, "-c", code, str(n), str(d), str(int(gaussian))],
        capture_output=True,
        text=True,
        check=True,
    )
    traced, rss = out.stdout.strip().splitlines()[-1].split()
    return float(traced), float(rss)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--gaussian", action="store_true")
    parser.add_argument("--only", default="", help="methods whose name has this")
    args = parser.parse_args(argv)
    n, d = (20_000, 100) if args.quick else (200_000, 100)
    data = "Gaussian" if args.gaussian else "columns scaled by 0.97^j"
    print(f"# {n}x{d} float64 ({n * d * 8 / 2**20:.0f} MiB), {data}\n")
    print("| method | tracemalloc peak (× X) | peak RSS growth (× X) |")
    print("|---|---:|---:|")
    for name in METHODS:
        if args.only in name:
            traced, rss = peak(name, n, d, args.gaussian)
            print(f"| {name} | {traced:.2f} | {rss:.2f} |", flush=True)


if __name__ == "__main__":
    main()
