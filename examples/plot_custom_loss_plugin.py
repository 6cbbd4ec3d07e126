"""
Writing a loss plugin
=====================

A loss is any object with ``value(y, y_pred, sample_weight)`` and
``gradient(y, y_pred, sample_weight)`` (see :class:`skla.components.losses.Loss`).
Register it under a name and every gradient estimator accepts that name --
including in a grid search.  Here the log-cosh loss, smooth like the squared
error near zero and linear like the absolute error far away.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_regression

import skla
from skla import GDRegressor, SGDMiniBatchRegressor


@skla.register("loss", "log_cosh", replace=True)
class LogCosh:
    """ℓ(r) = log cosh(r): its derivative tanh(r) is bounded by 1."""

    smoothness = 1.0  # |ℓ''| <= 1: lets the solvers pick a safe step
    separable = True  # one term per row: a dask fit may add up its chunks

    def value(self, y, y_pred, sample_weight):
        r = y - y_pred
        # log cosh r = |r| + log1p(exp(-2|r|)) - log 2, stable for large |r|
        loss = np.abs(r) + np.log1p(np.exp(-2 * np.abs(r))) - np.log(2)
        return float(sample_weight @ loss.sum(axis=1))

    def gradient(self, y, y_pred, sample_weight):
        return -sample_weight[:, None] * np.tanh(y - y_pred)


X, y = make_regression(n_samples=500, n_features=3, noise=1, random_state=0)
y[:25] += 500  # gross outliers
robust = GDRegressor(loss="log_cosh", tol=1e-10).fit(X, y)
squared = GDRegressor(tol=1e-10).fit(X, y)
# Log-cosh is flat around its optimum (the outliers' terms have no curvature),
# so the objective settles before the coefficients do: a tighter tol.
stochastic = SGDMiniBatchRegressor(loss="log_cosh", tol=1e-6, random_state=0)
stochastic.fit(X, y)
print("log-cosh (GD) :", robust.coef_.round(2))
print("log-cosh (SGD):", stochastic.coef_.round(2))
print("squared error :", squared.coef_.round(2))

# %%
r = np.linspace(-4, 4, 200)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(r, 0.5 * r**2, label="squared error / 2")
ax.plot(r, np.log(np.cosh(r)), label="log cosh")
ax.set_xlabel("residual")
ax.legend()
fig.tight_layout()

# %%
# Through an entry point, a package makes the name available without any
# import: in its ``pyproject.toml``::
#
#     [project.entry-points."skla.losses"]
#     log_cosh = "my_package.losses:LogCosh"
skla.unregister("loss", "log_cosh")
