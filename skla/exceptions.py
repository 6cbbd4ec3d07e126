"""Exceptions and warnings that skla raises."""

__all__ = ["DivergenceError"]


class DivergenceError(FloatingPointError):
    """An iterative solver's objective grew without bound or became non-finite.

    The message names the step size and what to change; skla never returns
    the non-finite or exploding coefficients of a diverged run.

    Examples
    --------
    >>> import numpy as np
    >>> from skla import GDRegressor
    >>> X = 100 * np.random.default_rng(0).standard_normal((50, 2))
    >>> try:
    ...     GDRegressor(learning_rate="constant", eta0=1.0).fit(X, X[:, 0])
    ... except DivergenceError as error:
    ...     print(type(error).__name__, "step size" in str(error))
    DivergenceError True
    """
