"""
The L1 path: exact zeros from proximal steps
============================================

An L1 penalty drives coefficients exactly to zero.  Gradient descent with a
proximal (soft-thresholding) step reproduces scikit-learn's Lasso, zeros
included; the figure traces each coefficient as alpha grows.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso
from sklearn.preprocessing import StandardScaler

from skla import GDRegressor

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
alphas = np.logspace(-2, 1.5, 25)
path = np.array(
    [GDRegressor(penalty="l1", alpha=a, tol=1e-10).fit(X, y).coef_ for a in alphas]
)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogx(alphas, path)
ax.set_xlabel("alpha")
ax.set_ylabel("coefficient")
ax.set_title("GDRegressor(penalty='l1')")
fig.tight_layout()

# %%
# The zeros match Lasso's exactly at every alpha.
for a, coef in zip(alphas[::6], path[::6], strict=True):
    lasso = Lasso(alpha=a, tol=1e-12, max_iter=100_000).fit(X, y).coef_
    same = np.array_equal(coef == 0, lasso == 0)
    print(f"alpha {a:7.3f}: {np.sum(coef == 0)} zeros, same as Lasso: {same}")
