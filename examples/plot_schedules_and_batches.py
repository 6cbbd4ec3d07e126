"""
Learning-rate schedules and batch sizes
=======================================

Mini-batch SGD trades noise for cost: a larger batch gives a better gradient
but fewer updates per epoch.  Here the training objective per epoch for the
built-in schedules, then for several batch sizes, on the same data.
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
for schedule in ["auto", "constant", "invscaling", "optimal", "adaptive"]:
    model = SGDMiniBatchRegressor(
        learning_rate=schedule,
        eta0=0.01,  # scikit-learn's; "auto" measures its own
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
    for schedule, style in [("auto", "-"), ("invscaling", ":")]:
        model = SGDMiniBatchRegressor(
            batch_size=batch_size,
            learning_rate=schedule,
            max_iter=30,
            tol=None,
            random_state=0,
        ).fit(X, y)
        right.semilogy(
            model.loss_curve_, style, label=f"{schedule}, batch_size={batch_size}"
        )
right.set_title("batch sizes (auto, and invscaling dotted)")
right.set_xlabel("epoch")
right.legend(fontsize="x-small")
fig.tight_layout()

# %%
# With a fixed ``eta0`` (dotted), small batches make more progress per epoch
# and large batches fall behind unless ``eta0`` is scaled with the batch size
# (the linear scaling rule).  The default ``learning_rate="auto"`` measures
# the curvature of a batch and grows its step with the batch size, so every
# batch size reaches the optimum in a few epochs, and a large batch's epoch
# costs less.
