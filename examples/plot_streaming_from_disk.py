"""
Training on data streamed from disk with partial_fit
====================================================

:class:`skla.SGDMiniBatchRegressor` learns from a stream: each ``partial_fit``
call runs one pass of mini-batches over the chunk it is given, and the
learning-rate schedule carries on across calls through ``t_``.  Here the data
live in a ``.npy`` file that is never loaded whole: chunks are read from a
memory map, and a generator stands in for any other source (a database cursor,
files arriving one by one).  The result is checked against the exact
least-squares fit of :class:`skla.PinvRegressor` on the full data.
"""

import shutil
import tempfile
import tracemalloc
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skla import PinvRegressor, SGDMiniBatchRegressor

# %%
# Write a regression data set to disk, block by block, as one would export it.
n_samples, n_features, chunk = 200_000, 20, 20_000
rng = np.random.default_rng(0)
true_coef = rng.normal(size=n_features)
workdir = Path(tempfile.mkdtemp())
X_file = np.lib.format.open_memmap(
    workdir / "X.npy", mode="w+", dtype=np.float64, shape=(n_samples, n_features)
)
y_file = np.lib.format.open_memmap(
    workdir / "y.npy", mode="w+", dtype=np.float64, shape=(n_samples,)
)
for start in range(0, n_samples, chunk):
    block = rng.normal(size=(chunk, n_features))
    X_file[start : start + chunk] = block
    y_file[start : start + chunk] = block @ true_coef + 3.0 + rng.normal(size=chunk)
X_file.flush()
y_file.flush()
del X_file, y_file
size_mib = (workdir / "X.npy").stat().st_size / 2**20
print(f"X.npy: {size_mib:.1f} MiB on disk")


# %%
# A generator of chunks read from the memory map: only the chunk being
# trained on is read into memory.
def chunks(path_X, path_y, size):
    X = np.load(path_X, mmap_mode="r")
    y = np.load(path_y, mmap_mode="r")
    for start in range(0, len(y), size):
        yield np.asarray(X[start : start + size]), np.asarray(y[start : start + size])


model = SGDMiniBatchRegressor(batch_size=64, random_state=0)
tracemalloc.start()
for epoch in range(3):
    for X_chunk, y_chunk in chunks(workdir / "X.npy", workdir / "y.npy", chunk):
        model.partial_fit(X_chunk, y_chunk)
    loss = model.loss_curve_[-1]
    print(f"pass {epoch + 1}: t_ = {model.t_}, loss on the last chunk {loss:.4f}")
peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
tracemalloc.stop()
print(
    f"peak memory while training: {peak_mib:.1f} MiB (the file is {size_mib:.1f} MiB)"
)

# %%
# The loss of each chunk as it was trained on: 10 chunks per pass, 3 passes.
fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogy(np.arange(1, len(model.loss_curve_) + 1), model.loss_curve_, "o-")
ax.set_xlabel("partial_fit call (chunk)")
ax.set_ylabel("mean loss on the chunk")
fig.tight_layout()

# %%
# The exact least-squares answer on the whole data, for reference.
X_all = np.load(workdir / "X.npy", mmap_mode="r")
y_all = np.load(workdir / "y.npy", mmap_mode="r")
exact = PinvRegressor().fit(X_all, y_all)
error = np.linalg.norm(model.coef_ - exact.coef_) / np.linalg.norm(exact.coef_)
print(f"relative distance to the least-squares coefficients: {error:.1e}")
print(f"intercept {model.intercept_:.3f} (exact {exact.intercept_:.3f})")
assert error < 1e-3
del X_all, y_all
shutil.rmtree(workdir)
assert peak_mib < size_mib / 2
