r"""The mini-batch SGD engine behind :class:`SGDMiniBatchRegressor`.

One update, for a mini-batch :math:`b` of rows with weights :math:`w_i`:

.. math::

    G = \nabla_P L(Y_b, X_b\beta + 1 b^\top), \qquad
    \beta \leftarrow \operatorname{prox}_{\eta\alpha R}(\beta - \eta X_b^\top G),
    \qquad b \leftarrow b - \eta\, G^\top 1,

where the loss's gradient is taken with weights :math:`w_i / |b|` (the mean
over the batch, each sample's term scaled by its weight, as scikit-learn's
SGDRegressor scales each sample's step).

**Reading the data.** An epoch is a sequence of windows of whole batches
that reads X in runs of consecutive rows (see :mod:`.windows`).

**Updates.** A window's updates run in :mod:`.kernels`: two BLAS calls
per batch for the squared loss on dense X (the common case), the
components' ``gradient`` and ``prox`` for everything else.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._data import unit_weights
from ..exceptions import DivergenceError
from . import compiled
from ._linalg import has_exploded
from .averaging import IterateAverage
from .curvature import (
    SAFE_FACTOR,
    augmented_norms,
    batch_curvature,
    stable_step,
    step_cap,
)
from .kernels import generic_window, squared_window
from .standardise import measure
from .windows import epoch_windows

__all__ = ["MiniBatchSGD"]


class MiniBatchSGD:
    """The state of a mini-batch SGD run: coefficients, schedule, averages.

    Parameters
    ----------
    coef : ndarray of shape (n_features, n_targets)
        Starting coefficients, updated in place.
    intercept : ndarray of shape (n_targets,)
        Starting intercept, updated in place.
    loss, penalty, schedule : components
        ``penalty`` may be None.
    alpha : float
        Penalty strength.
    fit_intercept : bool
    batch_size : int
    average_start : int or None
        Average the iterates of every update after which at least this many
        samples have been seen in total; None never averages.
    tail_average : bool
        Report the average over the tail of the run only (see
        :meth:`averaged`) instead of over every update since
        ``average_start``.
    x_scale : float, default=1.0
        The power of two X was multiplied by (extreme data): the run's
        coefficients are ``coef_ / x_scale``.

    Attributes
    ----------
    t : int
        Number of the next update (1 at the start), carried across epochs
        and ``partial_fit`` calls.
    n_seen : int
        Samples seen so far.
    max_eta : float or None
        The step-size cap, measured on the first window.
    rng : numpy.random.Generator or None
        The shuffling stream, kept across ``partial_fit`` calls.
    """

    def __init__(
        self,
        coef,
        intercept,
        *,
        loss,
        penalty,
        schedule,
        alpha,
        fit_intercept,
        batch_size,
        average_start=None,
        tail_average=False,
        x_scale=1.0,
    ):
        self.coef = coef
        self.intercept = intercept
        self.configure(
            loss=loss,
            penalty=penalty,
            schedule=schedule,
            alpha=alpha,
            fit_intercept=fit_intercept,
            batch_size=batch_size,
            average_start=average_start,
            tail_average=tail_average,
            x_scale=x_scale,
        )
        self.t = 1
        self.n_seen = 0
        self.average = IterateAverage(
            coef.shape, intercept.shape, tail=self.tail_average
        )
        self.max_eta = None
        self.rng = None
        self.standard = None  # the preconditioner (a Standardisation), if any
        self.metric = None  # the standardised coordinates of the optimality check
        self.curvature = None
        self.capped = False  # whether the last step asked for more than max_eta
        self.runs_compiled = False  # whether the epoch's updates run compiled
        self._buffer = None
        self._baseline = None

    def release_buffers(self):
        """Drop the window buffer (it is re-made by the next epoch)."""
        self._buffer = None

    def configure(self, **settings):
        """Set the components and settings (``partial_fit`` re-reads them)."""
        previous = getattr(self, "schedule", None)
        for name, value in settings.items():
            setattr(self, name, value)
        if not self.alpha > 0:
            self.penalty = None
        if hasattr(self, "average"):  # partial_fit: the setting may change
            self.average.tail = self.tail_average
        self.precondition = bool(getattr(self.schedule, "preconditioned", False))
        calibration = getattr(self, "_calibration", None)
        new = self.schedule is not previous
        if calibration is not None and new and hasattr(self.schedule, "calibrate"):
            # partial_fit resolved a new schedule: it keeps the measured step.
            step, period, smooth = calibration
            self.schedule.calibrate(step, period=period, smooth=smooth)

    # -- public -----------------------------------------------------------

    def result(self):
        """The model's coefficients: the averages when averaging."""
        if self.average_start is not None:
            return self.averaged()
        return self.coef, self.intercept

    def penalty_value(self):
        """``alpha · R(coef)`` of the engine's (possibly rescaled) problem."""
        if self.penalty is None or self.alpha == 0:
            return 0.0
        return float(self.alpha * self.penalty.value(self.coef))

    def averaged(self):
        """The averaged coefficients and intercept (the iterates if none yet)."""
        mean = self.average.mean()
        if mean is None:
            return self.coef, self.intercept
        # The sums are kept in the preconditioner's coordinates (if any).
        coef, intercept = self._raw(*mean)
        dtype = self.coef.dtype
        return coef.astype(dtype), intercept.astype(dtype)

    def epoch(self, X, Y, sample_weight, *, rng=None, rows=None):
        """One pass over the rows (all, or ``rows``) in mini-batches.

        Returns
        -------
        loss : float
            ``Σ wᵢ ℓᵢ / n`` over the epoch's n rows (SGDRegressor's
            objective, the one the updates descend: weights of 3 are a loss
            three times larger, not the same loss), each sample's loss taken
            at the coefficients before the update that used it.

        Raises
        ------
        DivergenceError
            If the loss or the coefficients become non-finite or explode.
        """
        n_rows = X.shape[0] if rows is None else len(rows)
        # Whether this epoch's updates run compiled (see .compiled).
        n_updates = -(-n_rows // self.batch_size)
        self.runs_compiled = self._squared(X, Y) and compiled.use(n_updates)
        # Sized for dense float64 rows whatever X's format and dtype, so that
        # a random_state gives the same shuffles for all of them.
        row_bytes = max(1, X.shape[1] * 8)
        total_loss = 0.0
        scaled = False
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for window in epoch_windows(
                n_rows, self.batch_size, row_bytes=row_bytes, rng=rng, rows=rows
            ):
                Xw, Yw, ww, rows_of_X = self._gather(X, Y, sample_weight, window)
                n_batches = -(-Yw.shape[0] // self.batch_size)
                first = self.max_eta is None
                if first:
                    self._measure(X, sample_weight, rows, Xw, Yw, ww)
                if self.standard is not None:
                    if not scaled:
                        self.standard.to_scaled(self.coef, self.intercept)
                        scaled = True
                    Xw = self._standardise(Xw)
                if first:
                    self._calibrate(Xw, Yw, ww, n_rows)
                rates = self.schedule.rates(self.t, n_batches)
                etas = np.minimum(rates, self.max_eta)
                self.capped = bool(rates[-1] > self.max_eta)
                loss = self._window(Xw, Yw, ww, etas, rows_of_X)
                weight = Yw.shape[0] if ww is None else float(ww.sum())
                self.t += n_batches
                self._check(loss, rates, Yw, ww)
                total_loss += loss * weight  # the window's Σ wᵢ ℓᵢ
        if scaled:
            self.standard.to_raw(self.coef, self.intercept)
        self.average.end_epoch()
        return total_loss / n_rows if n_rows else 0.0

    # -- the preconditioner -------------------------------------------------

    def _measure(self, X, sample_weight, rows, Xw, Yw, ww):
        """Measure the standardised coordinates (see :mod:`.standardise`).

        With a ``preconditioned`` schedule the run works in them, and a cold
        start begins at the mean target.
        """
        self.metric, standard = measure(
            X,
            sample_weight,
            rows,
            Xw,
            ww,
            fit_intercept=self.fit_intercept,
            precondition=self.precondition,
        )
        if not self.precondition:
            return
        self.standard = standard
        if self.fit_intercept and not np.any(self.coef) and not np.any(self.intercept):
            self.intercept[:] = unit_weights(ww, Yw.shape[0]) @ Yw

    def _standardise(self, Xw):
        """The window in the preconditioner's coordinates, never writing to X."""
        if sp.issparse(Xw) or Xw.base is self._buffer:
            return self.standard.transform(Xw, out=Xw)
        out = self._window_buffer(Xw.shape, Xw.dtype)  # rows of X itself
        return self.standard.transform(Xw, out=out)

    def _raw(self, coef, intercept):
        """Coefficients kept in the preconditioner's coordinates, in raw ones."""
        if self.standard is None:
            return coef, intercept
        return self.standard.raw(coef, intercept)

    def _calibrate(self, Zw, Yw, ww, n_rows):
        """Measure the step cap and the stable step; tell the schedule.

        See :mod:`.curvature`: the cap bounds every schedule's steps, and the
        stable step is the one ``learning_rate="auto"`` takes.
        """
        if sp.issparse(Zw) and self.standard is not None:
            Zw = Zw.toarray() - self.standard.offset  # the centred window
        smoothness = getattr(self.loss, "smoothness", None)
        norms = augmented_norms(Zw, self.fit_intercept)  # read once, used twice
        self.max_eta = step_cap(
            Zw, ww, smoothness, self.batch_size, self.fit_intercept, norms=norms
        )
        v = unit_weights(ww, Yw.shape[0])
        self.curvature, expected = batch_curvature(
            Zw, v, n_rows, self.batch_size, self.fit_intercept, norms=norms
        )
        step, smooth = stable_step(
            smoothness,
            getattr(self.loss, "gradient_bound", None),
            Yw,
            v,
            expected,
            weight=_mean_weight(ww),
        )
        if not smooth:
            # A larger step than SAFE_FACTOR times this one only makes the
            # iterates oscillate further.
            self.max_eta = max(self.max_eta if smoothness else 0.0, SAFE_FACTOR * step)
        self._calibration = (step, -(-n_rows // self.batch_size), smooth)
        calibrate = getattr(self.schedule, "calibrate", None)
        if calibrate is not None:
            calibrate(step, period=self._calibration[1], smooth=smooth)

    # -- windows ----------------------------------------------------------

    def _gather(self, X, Y, sample_weight, window):
        """``(Xw, Yw, ww, rows)``: the window's rows, or X and its ``rows``.

        The compiled loop reads a window's rows of X in place (``rows``, if
        not None); the first window is always gathered, for the measures.
        """
        ww = None if sample_weight is None else sample_weight[window]
        if isinstance(window, slice) or sp.issparse(X):
            return X[window], Y[window], ww, None
        if self.max_eta is not None and self._reads_rows(X):
            return X, Y[window], ww, window
        out = self._window_buffer((len(window), X.shape[1]), X.dtype)
        # mode="clip" skips the bounds check (the rows are valid): faster.
        np.take(X, window, axis=0, out=out, mode="clip")
        return out, Y[window], ww, None

    def _squared(self, Xw, Yw):
        """Whether a window takes the fast path (:func:`.squared_window`)."""
        return (
            Yw.shape[1] == 1
            and not sp.issparse(Xw)
            and getattr(self.loss, "quadratic", False)
            and (self.penalty is None or hasattr(self.penalty, "shrink"))
        )

    def _reads_rows(self, X):
        """Whether the window's updates can read its rows of X in place."""
        return self.runs_compiled and self.standard is None and compiled.dense_rows(X)

    def _window_buffer(self, shape, dtype):
        """The first ``shape[0]`` rows of the reusable window buffer."""
        if (
            self._buffer is None
            or self._buffer.shape[0] < shape[0]
            or self._buffer.dtype != dtype
        ):
            self._buffer = np.empty(shape, dtype=dtype)
        return self._buffer[: shape[0]]

    def _window(self, Xw, Yw, ww, etas, rows=None):
        if self._squared(Xw, Yw):
            return squared_window(self, Xw, Yw[:, 0], ww, etas, rows)
        return generic_window(self, Xw, Yw, ww, etas)

    def averaging_from(self, n_batches, n_rows):
        """Index of the window's first batch whose iterate is averaged."""
        if self.average_start is None:
            return n_batches
        seen_after = self.n_seen + np.minimum(
            (np.arange(n_batches) + 1) * self.batch_size, n_rows
        )
        return int(np.searchsorted(seen_after, self.average_start))

    def _check(self, loss, etas, Yw, ww):
        if self._baseline is None:
            # The loss of predicting 0 sets the scale (never 0 unless y is).
            v = unit_weights(ww, Yw.shape[0])
            zero = float(self.loss.value(Yw, np.zeros_like(Yw), v))
            self._baseline = max(loss, zero, np.finfo(np.float64).tiny)
        finite = np.isfinite(self.coef).all() and np.isfinite(self.intercept).all()
        if finite and not has_exploded(loss, self._baseline):
            return
        eta = float(np.asarray(etas)[-1])
        raise DivergenceError(
            f"Mini-batch SGD diverged after {self.t - 1} updates: the training "
            f"loss became {loss:.3g} (it started near {self._baseline:.3g}). The "
            f"learning rate is too large for these data (the last step size was "
            f"{eta:.3g}). {self.advice()}"
        )

    def advice(self):
        """What to change when the steps are too large."""
        if self.precondition:
            return (
                "learning_rate='auto' measured its step from the first window "
                "of rows; shuffle the data or lower Auto(factor=...)."
            )
        return (
            "Use a smaller eta0, scale the features (e.g. with StandardScaler), "
            "or use learning_rate='auto', which measures its step from the data."
        )


def _mean_weight(ww):
    """The window's mean sample weight (1 without weights or if all are 0)."""
    if ww is None:
        return 1.0
    mean = float(np.mean(ww))
    return mean if mean > 0 else 1.0
