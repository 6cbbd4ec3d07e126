"""Peak extra memory of a fit, as a multiple of X, side by side with scikit-learn.

Usage::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_memory.py
    python benchmarks/bench_memory.py --quick    # 20000x100, a smoke test

Each fit runs in its own fresh process (so one method's freed buffers do not
hide another's), after one small warm-up fit; the peak is tracemalloc's, over
the fit only, divided by the size of X (float64).  Data: a 200000×100 matrix
with a decaying spectrum (columns scaled by 0.97^j) and targets linear in it.
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
import sys, tracemalloc, numpy as np
n, d = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
X = rng.standard_normal((n, d)) * 0.97 ** np.arange(d)
y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
{setup}
fit = (lambda: e.fit(X, y)) if hasattr(e, "predict") else (lambda: e.fit(X))
from sklearn.base import clone
warm = clone(e)
warm.fit(X[:500], y[:500]) if hasattr(e, "predict") else warm.fit(X[:500])
tracemalloc.start()
fit()
print(tracemalloc.get_traced_memory()[1] / X.nbytes)
"""


def peak(name, n, d):
    code = SCRIPT.format(setup=METHODS[name])
    out = subprocess.run(
        [sys.executable, "-c", code, str(n), str(d)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n, d = (20_000, 100) if args.quick else (200_000, 100)
    print(f"# {n}x{d} float64 ({n * d * 8 / 2**20:.0f} MiB)\n")
    print("| method | peak extra memory (× X) |")
    print("|---|---:|")
    for name in METHODS:
        print(f"| {name} | {peak(name, n, d):.2f} |")


if __name__ == "__main__":
    main()
