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
gd = GDRegressor(tol=1e-8).fit(X, y)
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
# How they get there.  Gradient descent closes the gap to the optimal objective
# geometrically.  SGD with a constant step keeps hovering at a noise floor:
# its last iterate stays about as far from the optimum as one noisy step, while
# the averaged iterate keeps closing in.
optimum = 0.5 * np.mean((y - exact.predict(X)) ** 2)
gd_gap = np.maximum(np.array(gd.loss_curve_) - optimum, 1e-16)

params = {"alpha": 0.0, "learning_rate": "constant", "eta0": 0.1, "random_state": 0}
last = SGDMiniBatchRegressor(**params)
averaged = SGDMiniBatchRegressor(average=True, **params)
distance = {"last iterate": [], "averaged": []}
for _ in range(1000):
    for name, model in [("last iterate", last), ("averaged", averaged)]:
        model.partial_fit(X, y)
        gap = np.linalg.norm(model.coef_ - exact.coef_) / np.linalg.norm(exact.coef_)
        distance[name].append(gap)

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.semilogy(gd_gap)
left.set_title("GDRegressor")
left.set_xlabel("iteration")
left.set_ylabel("objective − optimum")
for name, values in distance.items():
    right.semilogy(values, label=name)
right.set_title("SGDMiniBatchRegressor, constant step")
right.set_xlabel("epoch (partial_fit call)")
right.set_ylabel("‖β − β_pinv‖ / ‖β_pinv‖")
right.legend()
fig.tight_layout()
