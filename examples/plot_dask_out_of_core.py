"""
Out of core with Dask: a zarr array fitted chunk by chunk
=========================================================

With ``pip install "skla[dask]"``, the estimators take dask arrays.  Least
squares, the Lasso and the SVD of a tall matrix need only small statistics of
the rows, which each chunk yields where it lives and which merge exactly; so
:class:`skla.PinvRegressor`, :class:`skla.GDRegressor` (squared loss) and
:class:`skla.TruncatedSVDCompressor` fit in one pass without X ever being
gathered, and :class:`skla.SGDMiniBatchRegressor` runs its epochs as
``partial_fit`` over the chunks.

Here X is a zarr array on disk, read lazily by dask's default threaded
scheduler; on a cluster, the same code runs after
``distributed.Client(...)``.  The process's peak memory stays a fraction of X.
"""

import shutil
import tempfile
import tracemalloc
import warnings
from pathlib import Path

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
import zarr

from skla import (
    GDRegressor,
    PinvRegressor,
    SGDMiniBatchRegressor,
    TruncatedSVDCompressor,
)

# %%
# Write X (1 000 000 × 20, 160 MB) and y to a zarr store, chunk by chunk.
n_samples, n_features, rows = 1_000_000, 20, 50_000
rng = np.random.default_rng(0)
coef = np.where(np.arange(n_features) < 8, rng.normal(size=n_features), 0.0)
store = Path(tempfile.mkdtemp()) / "data.zarr"
group = zarr.open_group(store, mode="w")
X_disk = group.create_array(
    "X", shape=(n_samples, n_features), chunks=(rows, n_features), dtype="f8"
)
y_disk = group.create_array("y", shape=(n_samples,), chunks=(rows,), dtype="f8")
for start in range(0, n_samples, rows):
    block = rng.normal(size=(rows, n_features)) * np.linspace(1, 5, n_features) + 10
    X_disk[start : start + rows] = block
    y_disk[start : start + rows] = block @ coef + 2.0 + rng.normal(size=rows)
print(f"X: {n_samples * n_features * 8 / 1e6:.0f} MB in {n_samples // rows} chunks")

# %%
# Lazy dask arrays over the store: nothing is read yet.
X = da.from_zarr(store, component="X")
y = da.from_zarr(store, component="y")

tracemalloc.start()
least_squares = PinvRegressor().fit(X, y)
lasso = GDRegressor(penalty="l1", alpha=0.05, tol=1e-10).fit(X, y)
svd = TruncatedSVDCompressor(3).fit(X)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # a fixed 3 epochs, not to convergence
    sgd = SGDMiniBatchRegressor(max_iter=3, random_state=0).fit(X, y)
peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
tracemalloc.stop()
print(f"peak memory while fitting all four: {peak_mb:.0f} MB")
print(f"least squares via {least_squares.solver_used_!r}")
print(f"Lasso zeros: {np.sum(lasso.coef_ == 0)} of {n_features}")
print(f"top singular values: {np.round(svd.singular_values_, 1)}")

# %%
# The fitted models are plain numpy; predictions on dask arrays stay lazy.
predictions = least_squares.predict(X)
print(type(predictions).__name__, predictions.chunks[0][:3], "...")
residual = float(((predictions - y) ** 2).mean().compute())
print(f"mean squared residual {residual:.3f} (the noise variance is 1)")

# %%
# Check against the in-memory fits on the loaded data.
X_mem, y_mem = X.compute(), y.compute()
exact = PinvRegressor().fit(X_mem, y_mem)
distance = np.linalg.norm(least_squares.coef_ - exact.coef_)
print(f"least squares: {distance / np.linalg.norm(exact.coef_):.1e} from fit")
assert distance < 1e-10 * np.linalg.norm(exact.coef_)
exact_svd = TruncatedSVDCompressor(3, algorithm="full").fit(X_mem)
assert np.allclose(svd.singular_values_, exact_svd.singular_values_, rtol=1e-10)
assert peak_mb < 0.5 * X_mem.nbytes / 1e6

fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(np.arange(n_features) - 0.2, exact.coef_, 0.4, label="least squares")
ax.bar(np.arange(n_features) + 0.2, lasso.coef_, 0.4, label="Lasso (alpha=0.05)")
ax.set_xlabel("feature")
ax.set_ylabel("coefficient")
ax.legend()
fig.tight_layout()

shutil.rmtree(store.parent)
