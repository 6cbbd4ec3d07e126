"""
Least squares with the pseudo-inverse
=====================================

The seed's examples, done by :class:`skla.PinvRegressor`: a square linear system,
then tall, wide and rank-deficient regressions, each checked against numpy.
"""

import matplotlib.pyplot as plt
import numpy as np

from skla import PinvRegressor

# %%
# A square system: 2x + 3y = 8, x + y = 3 has the single solution x=1, y=2.
A = np.array([[2.0, 3.0], [1.0, 1.0]])
b = np.array([8.0, 3.0])
system = PinvRegressor(fit_intercept=False).fit(A, b)
print("x, y =", system.coef_)

# The two equations are two lines; the solution is where they cross.
grid = np.linspace(-1, 3, 50)
fig, ax = plt.subplots(figsize=(4.5, 3.5))
ax.plot(grid, (8 - 2 * grid) / 3, label="2x + 3y = 8")
ax.plot(grid, 3 - grid, label="x + y = 3")
ax.plot(*system.coef_, "ko")
ax.annotate("(1, 2) = X⁺b", system.coef_, xytext=(10, 10), textcoords="offset points")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
fig.tight_layout()

# %%
# Tall X (more equations than unknowns): the least-squares fit.
rng = np.random.default_rng(0)
X = rng.standard_normal((200, 3))
y = X @ [1.5, -2.0, 0.5] + 3.0 + 0.1 * rng.standard_normal(200)
tall = PinvRegressor().fit(X, y)
design = np.column_stack([np.ones(len(X)), X])
print("tall:   coef", tall.coef_.round(3), "intercept", round(tall.intercept_, 3))
print("        numpy lstsq", np.linalg.lstsq(design, y, rcond=None)[0].round(3))

# %%
# Wide X (fewer equations than unknowns): infinitely many exact fits; the
# pseudo-inverse picks the one with the smallest norm.
X_wide = rng.standard_normal((3, 6))
y_wide = rng.standard_normal(3)
wide = PinvRegressor(fit_intercept=False).fit(X_wide, y_wide)
print("wide:   residual", np.abs(X_wide @ wide.coef_ - y_wide).max().round(12))
print(
    "        |coef| =",
    np.linalg.norm(wide.coef_).round(4),
    "= |pinv(X) y| =",
    np.linalg.norm(np.linalg.pinv(X_wide) @ y_wide).round(4),
)

# %%
# Rank-deficient X: a duplicated column.  The rank is reported and the weight
# is shared equally between the two copies (the minimum-norm choice).
X_dup = np.column_stack([X[:, 0], X[:, 0], X[:, 1]])
dup = PinvRegressor().fit(X_dup, y)
print(
    "rank-deficient: rank",
    dup.rank_,
    "coef",
    dup.coef_.round(3),
    "solver used",
    dup.solver_used_,
)
