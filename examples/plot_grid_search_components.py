"""
Grid search over components
===========================

Every pluggable part is chosen by a registered name, so GridSearchCV searches
over losses, penalties and solvers like any other hyperparameter.  Here a
Pipeline with a scaler and GDRegressor, on data with a few gross outliers:
the Huber loss should win.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skla import GDRegressor

X, y = make_regression(n_samples=400, n_features=8, noise=5, random_state=0)
rng = np.random.default_rng(0)
outliers = rng.choice(len(y), 20, replace=False)
y_train = y.copy()
y_train[outliers] += rng.normal(0, 2000, 20)

# The RMSE loss is not smooth at an exact fit, so some folds stop at max_iter;
# their scores still count.
warnings.simplefilter("ignore", ConvergenceWarning)
search = GridSearchCV(
    make_pipeline(StandardScaler(), GDRegressor(epsilon=10.0)),
    {
        "gdregressor__loss": ["squared_error", "huber", "rmse"],
        "gdregressor__penalty": [None, "l2", "l1"],
        "gdregressor__alpha": [0.01, 1.0],
    },
    scoring="neg_median_absolute_error",
    cv=4,
).fit(X, y_train)
print("best:", search.best_params_)

# %%
# The best score of each loss × penalty pair (over alpha): the robust Huber
# loss wins whatever the penalty.
results = pd.DataFrame(search.cv_results_)
results["penalty"] = results["param_gdregressor__penalty"].fillna("none")
scores = results.pivot_table(
    index="param_gdregressor__loss",
    columns="penalty",
    values="mean_test_score",
    aggfunc="max",
)
fig, ax = plt.subplots(figsize=(5, 3))
ax.imshow(scores.to_numpy(dtype=float), cmap="viridis")
for (i, j), value in np.ndenumerate(scores.to_numpy(dtype=float)):
    ax.text(j, i, f"{-value:.1f}", ha="center", va="center", color="white")
ax.set_xticks(range(scores.shape[1]), list(scores.columns))
ax.set_yticks(range(scores.shape[0]), list(scores.index))
ax.set_xlabel("penalty")
ax.set_title("median absolute error (cross-validated)")
fig.tight_layout()
