"""
Learning-rate schedules and batch sizes
=======================================

Mini-batch SGD trades noise for cost: a larger batch gives a better gradient
but fewer updates per epoch.  Here the training objective per epoch for the
four built-in schedules, then for several batch sizes, on the same data.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skla import SGDMiniBatchRegressor

X, y = make_regression(n_samples=5000, n_features=20, noise=10, random_state=0)
X = StandardScaler().fit_transform(X)
warnings.simplefilter("ignore", ConvergenceWarning)

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for schedule in ["constant", "invscaling", "optimal", "adaptive"]:
    model = SGDMiniBatchRegressor(
        learning_rate=schedule,
        eta0=0.01,
        alpha=1e-3,
        max_iter=30,
        tol=None,
        random_state=0,
    ).fit(X, y)
    left.semilogy(model.loss_curve_, label=schedule)
left.set_title("schedules (batch_size=32)")
left.set_xlabel("epoch")
left.set_ylabel("training objective")
left.legend()

for batch_size in [1, 8, 64, 512]:
    model = SGDMiniBatchRegressor(
        batch_size=batch_size, eta0=0.01, max_iter=30, tol=None, random_state=0
    ).fit(X, y)
    right.semilogy(model.loss_curve_, label=f"batch_size={batch_size}")
right.set_title("batch sizes (invscaling)")
right.set_xlabel("epoch")
right.legend()
fig.tight_layout()

# %%
# Small batches make more progress per epoch; large batches need a larger
# ``eta0`` (the linear scaling rule) to keep up, but each epoch costs less.
