"""Epochs of mini-batch SGD until the objective stops improving.

:func:`run_epochs` is ``SGDMiniBatchRegressor.fit``'s loop: it runs epochs of
a :class:`~skla._algorithms.minibatch.MiniBatchSGD`, watches the epoch
objective (or the validation R² with early stopping) with scikit-learn's
``tol`` and ``n_iter_no_change``, lets a schedule with a ``plateau`` react to
a plateau, and -- under ``learning_rate="auto"`` -- asks the
:class:`~skla._algorithms.convergence.OptimalityCheck` before stopping.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils.extmath import safe_sparse_dot

from .convergence import far_from_optimum

__all__ = ["Epochs", "may_stop", "record_epoch", "run_epochs", "warn_at_max_iter"]


@dataclass
class Epochs:
    """What :func:`run_epochs` returns (and how it got there)."""

    n_iter: int = 0
    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = np.inf
    best_score: float = -np.inf
    best: tuple | None = None  # the best validation epoch's (coef, intercept)
    arrived: bool = False  # the optimality check found the fit optimal


def _validation_score(engine, X_val, Y_val, w_val):
    coef, intercept = engine.result()
    predictions = safe_sparse_dot(X_val, coef, dense_output=True) + intercept
    return float(r2_score(Y_val, predictions, sample_weight=w_val))


def record_epoch(run, engine, objective, validation, tol):
    """Record the epoch; whether it improved on the best by ``tol``."""
    if validation is not None:
        score = _validation_score(engine, *validation)
        run.validation_scores.append(score)
        improved = tol is None or score >= run.best_score + tol
        if score > run.best_score:
            run.best_score = score
            run.best = tuple(a.copy() for a in engine.result())
        return improved
    if tol is not None and engine.precondition and np.isfinite(run.best_loss):
        # "auto" is scale-free, so is its stopping rule: tol is relative.
        tol = tol * abs(run.best_loss)
    improved = tol is None or objective <= run.best_loss - tol
    run.best_loss = min(run.best_loss, objective)
    return improved


def warn_at_max_iter(max_iter, tol, stacklevel=5):
    """The ConvergenceWarning of a run that used all ``max_iter`` epochs
    (none when ``tol`` is None: a fixed number of epochs was asked for)."""
    if tol is not None:
        warnings.warn(
            f"SGDMiniBatchRegressor stopped at max_iter={max_iter} epochs "
            f"before the objective stopped improving by tol={tol}. "
            "Consider increasing max_iter.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )


def may_stop(run, engine, check):
    """At a plateau: whether to stop (else the run goes on).

    "auto" stops only where the full gradient says the fit has arrived; a
    schedule with ``plateau()`` (adaptive) may lower its step instead.
    """
    if engine.precondition and check is not None:
        run.arrived = check.problem(*engine.result()) is None
        if run.arrived:
            return True
    plateau = getattr(engine.schedule, "plateau", None)
    return plateau is None or not plateau()


def run_epochs(
    engine,
    X,
    Y,
    sample_weight,
    *,
    max_iter,
    tol,
    n_iter_no_change,
    rng=None,
    rows=None,
    validation=None,
    check=None,
    verbose=0,
):
    """Run epochs until ``n_iter_no_change`` of them do not improve by ``tol``.

    Parameters
    ----------
    engine : MiniBatchSGD
    X, Y, sample_weight
        The training data (rows ``rows`` of them, if given).
    max_iter, tol, n_iter_no_change
        scikit-learn's stopping parameters (``tol`` None: run ``max_iter``).
    rng : numpy.random.Generator or None
        Shuffle each epoch with it; None visits the rows in order.
    validation : tuple or None
        ``(X_val, Y_val, w_val)`` for early stopping on the validation R².
    check : OptimalityCheck or None
        Asked before "auto" stops, and after the run (it warns when far).
    verbose : int

    Returns
    -------
    run : Epochs
    """
    run = Epochs()
    no_improvement = 0
    for epoch in range(max_iter):
        loss = engine.epoch(X, Y, sample_weight, rng=rng, rows=rows)
        objective = loss + engine.penalty_value()
        run.loss_curve.append(objective)
        improved = record_epoch(run, engine, objective, validation, tol)
        no_improvement = 0 if improved else no_improvement + 1
        if verbose:
            score = run.validation_scores[-1] if validation is not None else None
            print(
                f"-- Epoch {epoch + 1}: objective {objective:.6g}, t {engine.t}"
                + (f", validation R² {score:.6g}" if score is not None else "")
            )
        if no_improvement >= n_iter_no_change:
            if may_stop(run, engine, check):
                break
            no_improvement = 0
    else:
        warn_at_max_iter(max_iter, tol)
    run.n_iter = epoch + 1
    # Warn when far from the optimum (one more pass over X), unless "auto"
    # stopped because the check had just found the fit optimal.
    if check is not None and (not run.arrived or run.n_iter == max_iter):
        far_from_optimum(engine, check, run.n_iter)
    return run
