"""Exceptions and warnings that skla raises."""

__all__ = ["DivergenceError"]


class DivergenceError(FloatingPointError):
    """An iterative solver's objective grew without bound or became non-finite.

    The message names the step size and what to change; skla never returns
    the non-finite or exploding coefficients of a diverged run.
    """
