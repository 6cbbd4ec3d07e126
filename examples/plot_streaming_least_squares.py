"""
Exact least squares and Lasso from chunks on disk
=================================================

Least squares, ridge and the Lasso depend on the rows only through small
statistics -- the weighted means and the R factor of the centred ``[X, y]``,
``(d + 1)²`` numbers however many rows there are.  So
:meth:`skla.PinvRegressor.partial_fit` and, for the squared loss,
:meth:`skla.GDRegressor.partial_fit` fold chunks into those statistics and
give, after every chunk, *exactly* the fit of all the rows seen -- unlike
stochastic gradient descent, which only approaches it (see
:ref:`sphx_glr_auto_examples_plot_streaming_from_disk.py`).

Here X lives in a ``.npy`` file read through a memory map, one chunk at a
time, and the streamed fits are compared with the in-memory ones.
"""

import shutil
import tempfile
import tracemalloc
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skla import GDRegressor, PinvRegressor

# %%
# A data set written to disk block by block: 200 000 rows, 30 features on
# scales 10 times apart, with a large offset, and only 10 useful features.
n_samples, n_features, chunk = 200_000, 30, 25_000
rng = np.random.default_rng(0)
scales = np.logspace(0, 1, n_features)
true_coef = np.zeros(n_features)
true_coef[:10] = rng.normal(size=10)
workdir = Path(tempfile.mkdtemp())
X_file = np.lib.format.open_memmap(
    workdir / "X.npy", mode="w+", dtype=np.float64, shape=(n_samples, n_features)
)
y_file = np.lib.format.open_memmap(
    workdir / "y.npy", mode="w+", dtype=np.float64, shape=(n_samples,)
)
for start in range(0, n_samples, chunk):
    block = rng.normal(size=(chunk, n_features)) * scales + 100.0
    X_file[start : start + chunk] = block
    y_file[start : start + chunk] = block @ true_coef + 3.0 + rng.normal(size=chunk)
X_file.flush()
y_file.flush()
del X_file, y_file
size_mib = (workdir / "X.npy").stat().st_size / 2**20
print(f"X.npy: {size_mib:.1f} MiB on disk")

# %%
# Stream the chunks through both estimators; only one chunk is in memory at
# a time.  After each chunk, record the distance to the final answer.
X_map = np.load(workdir / "X.npy", mmap_mode="r")
y_map = np.load(workdir / "y.npy", mmap_mode="r")
least_squares = PinvRegressor()
lasso = GDRegressor(penalty="l1", alpha=0.05, tol=1e-10)
history = []
tracemalloc.start()
for start in range(0, n_samples, chunk):
    X_chunk = np.asarray(X_map[start : start + chunk])
    y_chunk = np.asarray(y_map[start : start + chunk])
    least_squares.partial_fit(X_chunk, y_chunk)
    lasso.partial_fit(X_chunk, y_chunk)
    history.append((start + chunk, least_squares.coef_.copy(), lasso.coef_.copy()))
    del X_chunk, y_chunk
peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
tracemalloc.stop()
print(f"peak memory while streaming: {peak_mib:.1f} MiB (X is {size_mib:.1f} MiB)")

# %%
# The in-memory fits on all the rows: the streamed ones are the same.
X_all, y_all = np.load(workdir / "X.npy"), np.load(workdir / "y.npy")
exact = PinvRegressor().fit(X_all, y_all)
exact_lasso = GDRegressor(penalty="l1", alpha=0.05, tol=1e-10).fit(X_all, y_all)


def distance(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


print(f"least squares: {distance(least_squares.coef_, exact.coef_):.1e} from fit")
print(f"Lasso:         {distance(lasso.coef_, exact_lasso.coef_):.1e} from fit")
print(
    f"Lasso zeros: {np.sum(lasso.coef_ == 0)} streamed, "
    f"{np.sum(exact_lasso.coef_ == 0)} in memory"
)
assert distance(least_squares.coef_, exact.coef_) < 1e-10
assert distance(lasso.coef_, exact_lasso.coef_) < 1e-6
assert np.array_equal(lasso.coef_ == 0, exact_lasso.coef_ == 0)
assert np.sum(lasso.coef_ == 0) >= 15
assert peak_mib < size_mib / 4

# %%
# After each chunk the streamed fit *is* the fit of the rows seen so far; it
# moves towards the answer on all rows as the rows arrive.
rows = [n for n, _, _ in history]
fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogy(
    rows, [distance(c, exact.coef_) for _, c, _ in history], "o-", label="least squares"
)
ax.semilogy(
    rows, [distance(c, exact_lasso.coef_) for _, _, c in history], "s-", label="Lasso"
)
ax.set_xlabel("rows seen")
ax.set_ylabel("distance to the fit on all rows")
ax.legend()
fig.tight_layout()

del X_map, y_map
shutil.rmtree(workdir)
