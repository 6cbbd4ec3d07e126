"""
Pseudo-inverse, gradient descent and mini-batch SGD find the same line
=======================================================================

The seeds solve least squares three ways: in closed form with the
pseudo-inverse, by gradient descent on the squared error, and by stochastic
gradient descent on mini-batches.  On the diabetes data all three reach the
same coefficients; the figure shows how the two iterative methods approach
the closed-form optimum.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from skla import GDRegressor, PinvRegressor, SGDMiniBatchRegressor

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)

exact = PinvRegressor().fit(X, y)
gd = GDRegressor(tol=1e-10).fit(X, y)
# A constant step with averaging: the iterates hover around the optimum, and
# their (tail) average lands on it.
sgd = SGDMiniBatchRegressor(
    alpha=0.0,
    learning_rate="constant",
    eta0=0.1,
    average=True,
    max_iter=1000,
    tol=None,
    random_state=0,
).fit(X, y)

for name, model in [("pinv", exact), ("GD", gd), ("SGD", sgd)]:
    error = np.linalg.norm(model.coef_ - exact.coef_) / np.linalg.norm(exact.coef_)
    print(f"{name:4s} R² {model.score(X, y):.4f}, distance to pinv {error:.1e}")

# %%
# The objective per iteration (GD) and per epoch (SGD), above the optimum.
optimum = 0.5 * np.mean((y - exact.predict(X)) ** 2)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(np.array(gd.loss_curve_) - optimum, label="GD (per iteration)")
ax.semilogy(np.array(sgd.loss_curve_) - optimum, label="mini-batch SGD (per epoch)")
ax.set_xlabel("iteration / epoch")
ax.set_ylabel("objective − optimum")
ax.legend()
fig.tight_layout()
