r"""The mini-batch SGD engine behind :class:`SGDMiniBatchRegressor`.

One update, for a mini-batch :math:`b` of rows with weights :math:`w_i`:

.. math::

    G = \nabla_P L(Y_b, X_b\beta + 1 b^\top), \qquad
    \beta \leftarrow \operatorname{prox}_{\eta\alpha R}(\beta - \eta X_b^\top G),
    \qquad b \leftarrow b - \eta\, G^\top 1,

where the loss's gradient is taken with weights :math:`w_i / |b|` (the mean
over the batch, each sample's term scaled by its weight, as scikit-learn's
SGDRegressor scales each sample's step).

**Reading the data.** A mini-batch of shuffled rows is a gather, and
gathering rows one by one from a large X costs a main-memory latency per
row -- on 200000×100 that is 0.05 s per epoch, more than the arithmetic.
So an epoch is planned in two levels: X is cut into *blocks* of about 16 KiB
of consecutive rows, the blocks are visited in a random order, and each
*window* of about 2 MiB of these blocks is cut into batches across the
blocks: batch j takes the j-th row of each of ``batch_size`` equal slices of
the window.  Each batch therefore holds rows from as many places in X as it
has rows, while X is read in runs of consecutive rows at memory speed.  A
window is gathered into one reusable buffer: the extra memory is a few MiB
whatever the size of X, and X is never copied.

**The fast path.** For the squared loss on dense X with one target and a
penalty that is a pure scaling (ridge, or none) -- the common case -- an
update is two BLAS calls (``gemv``) and a sum: the forward pass writes the
residual into a buffer that already holds the targets, and the proximal
scaling is folded into the ``gemv`` of the gradient step.  Every other
combination (any loss or penalty, sparse X, several targets) goes through
the components' ``gradient`` and ``prox`` methods.
"""

from __future__ import annotations

from functools import cache
from itertools import repeat

import numpy as np
import scipy.sparse as sp
from scipy.linalg import get_blas_funcs
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.sparsefuncs import mean_variance_axis

from ..exceptions import DivergenceError

__all__ = ["MiniBatchSGD", "epoch_windows"]

BLOCK_BYTES = 16 * 1024
WINDOW_BYTES = 2 * 1024 * 1024
# Steps are capped at SAFE_FACTOR / L (stability needs < 2 / L).
SAFE_FACTOR = 1.5
# Rows of the first window that measure the full-batch curvature.
_CURVATURE_ROWS = 1024
# A window loss this many times the starting loss means divergence.
_EXPLODED = 1e8


def epoch_windows(n_rows, batch_size, *, row_bytes, rng=None, rows=None):
    """The rows of one epoch, as windows of whole batches.

    Parameters
    ----------
    n_rows : int
        Number of rows to visit (``len(rows)`` if ``rows`` is given).
    batch_size : int
        Windows hold a multiple of this many rows (the last one the rest).
    row_bytes : int
        Bytes per row of X, which sets the block and window sizes.
    rng : numpy.random.Generator or None
        Shuffle with it; None visits the rows in order.
    rows : ndarray of int or None
        Visit only these rows of X (e.g. the training part of a split).

    Yields
    ------
    window : slice or ndarray of int
        Rows of X; a slice when the rows are consecutive.

    Examples
    --------
    >>> import numpy as np
    >>> list(epoch_windows(5, 2, row_bytes=WINDOW_BYTES))
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    >>> rng = np.random.default_rng(0)
    >>> windows = list(epoch_windows(1000, 32, row_bytes=800, rng=rng))
    >>> np.array_equal(np.sort(np.concatenate(windows)), np.arange(1000))
    True
    """
    window = max(batch_size, WINDOW_BYTES // row_bytes // batch_size * batch_size)
    if rng is None:
        for start in range(0, n_rows, window):
            stop = min(start + window, n_rows)
            yield slice(start, stop) if rows is None else rows[start:stop]
        return
    block = max(1, BLOCK_BYTES // row_bytes)
    n_blocks = -(-n_rows // block)
    order = rng.permutation(n_blocks)
    # Positions of the epoch's rows, block by block in the shuffled order.
    positions = (order[:, None] * block + np.arange(block)).ravel()
    if n_rows % block:
        positions = positions[positions < n_rows]
    for start in range(0, n_rows, window):
        chunk = positions[start : start + window]
        if len(chunk) == window:
            # Batch j takes the j-th row of each of batch_size equal slices of
            # the window (so rows of batch_size different blocks): one
            # transpose instead of a permutation, and X is still read in runs.
            chunk = chunk.reshape(batch_size, -1).T.ravel()
        else:
            chunk = chunk[rng.permutation(len(chunk))]
        yield chunk if rows is None else rows[chunk]


@cache
def _gemv(dtype):
    return get_blas_funcs("gemv", dtype=dtype)


def _batches(a, size, *, transpose=False):
    """Consecutive slices of ``size`` rows of ``a`` as views, the last shorter.

    Full batches come from one reshaped view (iterating it is cheaper than
    slicing in Python); ``transpose`` yields each (rows, features) batch
    transposed, Fortran-contiguous, as BLAS wants it.
    """
    n_full = a.shape[0] // size
    full = a[: n_full * size].reshape(n_full, size, *a.shape[1:])
    if transpose:
        full = full.transpose(0, 2, 1)
    yield from full
    if a.shape[0] > n_full * size:
        tail = a[n_full * size :]
        yield tail.T if transpose else tail


def _unit_weights(ww, m):
    """Weights summing to one (uniform without sample weights)."""
    if ww is None or not ww.sum() > 0:
        return np.full(m, 1.0 / max(m, 1))
    return np.asarray(ww, dtype=np.float64) / float(ww.sum())


def _row_norms_squared(Z):
    """``‖z_i‖²`` of each row, dense or sparse."""
    if sp.issparse(Z):
        return np.asarray(Z.multiply(Z).sum(axis=1), dtype=np.float64).ravel()
    return np.einsum("ij,ij->i", Z, Z, dtype=np.float64)


def _is_standard(shift, scale):
    """Whether features are centred and scaled enough to be left as they are."""
    return bool(
        np.all(np.abs(shift) <= 0.25 * scale) and np.all(np.abs(np.log2(scale)) <= 1)
    )


def _column_moments(X, weights, rows=None, *, pilot=None, block=256):
    """Weighted mean and variance of each column (``weights`` sum to 1).

    Dense X is read in blocks of rows, each shifted by ``pilot`` (a guess of
    the mean; the first row if None) before squaring, so that the variance of
    a column with a large offset is not lost to cancellation; the only
    temporary is one block.  Sparse X uses scikit-learn's
    :func:`~sklearn.utils.sparsefuncs.mean_variance_axis`.
    """
    if rows is not None and sp.issparse(X):
        X, rows = X[rows], None
    if sp.issparse(X):
        mean, var = mean_variance_axis(sp.csr_matrix(X), axis=0, weights=weights)
        return np.asarray(mean, dtype=np.float64), np.asarray(var, dtype=np.float64)
    n = X.shape[0] if rows is None else len(rows)
    if pilot is None:
        pilot = np.asarray(X[0] if rows is None else X[rows[0]], dtype=np.float64)
    shifted = np.zeros(X.shape[1])
    second = np.zeros(X.shape[1])
    for start in range(0, n, block):
        part = slice(start, start + block)
        Xb = X[part] if rows is None else X[rows[part]]
        Db = np.subtract(Xb, pilot, dtype=np.float64)
        v = weights[part]
        shifted += v @ Db
        second += v @ np.square(Db, out=Db)
    return pilot + shifted, np.maximum(second - shifted**2, 0.0)


def _largest_curvature(Xb, v, fit_intercept, *, max_dense=2048, n_power=30):
    """λmax of ``Σ v_i x̃_i x̃_iᵀ``, ``x̃ = [x, 1]`` with an intercept, else x.

    Power iteration, on the smaller Gram matrix when it has at most
    ``max_dense`` rows, else on the implicit product.  It approaches λmax
    from below; the safety factor of the step cap covers the gap.  (A dense
    eigensolver costs milliseconds of thread start-up for a 100×100 matrix.)
    """
    m, d = Xb.shape
    n_cols = d + bool(fit_intercept)
    if not sp.issparse(Xb) and n_cols < m and n_cols <= max_dense:
        return _power_iteration(
            _weighted_gram(Xb, v, fit_intercept).__matmul__, n_cols, n_power
        )
    root = np.sqrt(v).astype(np.float64)
    A = sp.diags(root) @ Xb if sp.issparse(Xb) else root[:, None] * Xb
    ones = root if fit_intercept else None

    def gram_apply(z):  # (ÃᵀÃ) z, Ã = [A, root] with an intercept
        u = safe_sparse_dot(A, z[:d])
        if ones is not None:
            u = u + ones * z[d]
        out = safe_sparse_dot(A.T, u)
        return np.append(out, ones @ u) if ones is not None else out

    n_cols = d + (ones is not None)
    apply = gram_apply
    if m <= min(n_cols, max_dense):  # ÃÃᵀ, m × m, has the same λmax
        K = safe_sparse_dot(A, A.T, dense_output=True)
        if ones is not None:
            K = K + np.outer(ones, ones)
        apply = K.__matmul__
        n_cols = m
    elif n_cols <= max_dense:
        K = np.empty((n_cols, n_cols))
        K[:d, :d] = safe_sparse_dot(A.T, A, dense_output=True)
        if ones is not None:
            K[:d, d] = K[d, :d] = safe_sparse_dot(A.T, ones)
            K[d, d] = ones @ ones
        apply = K.__matmul__
    return _power_iteration(apply, n_cols, n_power)


def _weighted_gram(X, v, fit_intercept, *, block=256):
    """``Σ v_i x̃_i x̃_iᵀ`` of dense X by blocks of rows (one block's temporary)."""
    m, d = X.shape
    K = np.zeros((d + bool(fit_intercept),) * 2)
    for start in range(0, m, block):
        Xb = np.asarray(X[start : start + block], dtype=np.float64)
        vb = v[start : start + block]
        weighted = Xb.T * vb
        K[:d, :d] += weighted @ Xb
        if fit_intercept:
            K[:d, d] += weighted.sum(axis=1)
    if fit_intercept:
        K[d, :d] = K[:d, d]
        K[d, d] = v.sum()
    return K


def _power_iteration(apply, n, n_power):
    """The largest eigenvalue of a symmetric PSD operator, from below."""
    z = np.random.default_rng(0).standard_normal(n)
    value = 0.0
    for _ in range(n_power):
        z = apply(z)
        value = float(np.linalg.norm(z))
        if value == 0:
            return 0.0
        z /= value
    return value


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
        )
        self.t = 1
        self.n_seen = 0
        self.epochs = 0
        self.coef_sum = np.zeros(coef.shape)
        self.intercept_sum = np.zeros(intercept.shape)
        self.n_averaged = 0
        self._marks = {0: (self.coef_sum.copy(), self.intercept_sum.copy(), 0)}
        self.max_eta = None
        self.rng = None
        self.shift = self.scale = None  # the preconditioner, once measured
        self.metric = None  # (shift, scale) of standardised coordinates
        self.curvature = None
        self.capped = False  # whether the last step asked for more than max_eta
        self._buffer = None
        self._baseline = None

    def release_buffers(self):
        """Drop the window buffer (it is re-made by the next epoch)."""
        self._buffer = None

    def configure(self, **settings):
        """Set the components and settings (``partial_fit`` re-reads them)."""
        for name, value in settings.items():
            setattr(self, name, value)
        if not self.alpha > 0:
            self.penalty = None
        self.precondition = bool(getattr(self.schedule, "preconditioned", False))
        calibration = getattr(self, "_calibration", None)
        if calibration is not None and hasattr(self.schedule, "calibrate"):
            # partial_fit resolves a new schedule: it keeps the measured step.
            step, period, smooth = calibration
            self.schedule.calibrate(step, period=period, smooth=smooth)

    # -- public -----------------------------------------------------------

    def end_epoch(self):
        """Mark an epoch boundary (where tail averages may start)."""
        self.epochs += 1
        e = self.epochs
        if e & (e - 1) == 0:  # a power of two
            self._marks[e] = (
                self.coef_sum.copy(),
                self.intercept_sum.copy(),
                self.n_averaged,
            )
            for old in [k for k in self._marks if k < e // 2]:
                del self._marks[old]

    def averaged(self):
        """The averaged coefficients and intercept (the iterates if none yet).

        With ``tail_average``, the average runs over the epochs after epoch
        ``s``, the largest power of two not above half the epochs done: the
        last half to three quarters of the run.  Uniform averaging from the
        start would keep the transient from the starting point, which with
        mini-batches -- 32 times fewer updates per epoch than per-sample SGD
        -- weighs for many epochs.  Two snapshots of the running sums suffice.
        """
        coef_sum, intercept_sum, count = self.coef_sum, self.intercept_sum, 0
        if self.tail_average:
            e = self.epochs
            start = (1 << (e.bit_length() - 1)) // 2 if e >= 2 else 0
            coef0, intercept0, count0 = self._marks[start]
            coef_sum, intercept_sum = coef_sum - coef0, intercept_sum - intercept0
            count = count0
        count = self.n_averaged - count
        if count == 0:
            return self.coef, self.intercept
        # The sums are kept in the preconditioner's coordinates (if any).
        coef, intercept = self._raw(coef_sum / count, intercept_sum / count)
        dtype = self.coef.dtype
        return coef.astype(dtype), intercept.astype(dtype)

    def epoch(self, X, Y, sample_weight, *, rng=None, rows=None):
        """One pass over the rows (all, or ``rows``) in mini-batches.

        Returns
        -------
        loss : float
            The weighted mean loss over the epoch, each sample's loss taken
            at the coefficients before the update that used it.

        Raises
        ------
        DivergenceError
            If the loss or the coefficients become non-finite or explode.
        """
        n_rows = X.shape[0] if rows is None else len(rows)
        # Sized for dense float64 rows whatever X's format and dtype, so that
        # a random_state gives the same shuffles for all of them.
        row_bytes = max(1, X.shape[1] * 8)
        total_loss = total_weight = 0.0
        scaled = False
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for window in epoch_windows(
                n_rows, self.batch_size, row_bytes=row_bytes, rng=rng, rows=rows
            ):
                Xw, Yw, ww = self._gather(X, Y, sample_weight, window)
                n_batches = -(-Yw.shape[0] // self.batch_size)
                first = self.max_eta is None
                if first:
                    self._measure_preconditioner(X, sample_weight, rows, Xw, Yw, ww)
                if self.scale is not None:
                    if not scaled:
                        self._to_scaled()
                        scaled = True
                    Xw = self._standardise(Xw)
                if first:
                    self._calibrate(Xw, Yw, ww, n_rows)
                rates = self.schedule.rates(self.t, n_batches)
                etas = np.minimum(rates, self.max_eta)
                self.capped = bool(rates[-1] > self.max_eta)
                loss = self._window(Xw, Yw, ww, etas)
                weight = Yw.shape[0] if ww is None else float(ww.sum())
                self.t += n_batches
                self._check(loss, rates, Yw, ww)
                total_loss += loss * weight
                total_weight += weight
        if scaled:
            self._to_raw()
        self.end_epoch()
        return total_loss / total_weight if total_weight > 0 else 0.0

    # -- the preconditioner -------------------------------------------------

    def _measure_preconditioner(self, X, sample_weight, rows, Xw, Yw, ww):
        """Centre and scale the features: ``z = (x - shift) / scale``.

        In these coordinates every feature, and the intercept, has unit
        spread, so one step size suits them all: on raw data the step that
        is stable for the largest-scale direction starves the others.  The
        model is the same (``β = γ / scale``, ``b = c - shiftᵀβ``), so is the
        objective: the penalty is applied to ``β`` through its ``prox`` with
        one step per coefficient.  Without an intercept the features are only
        scaled (by their root mean square).  A column that does not vary is
        scaled by its magnitude, or, if it is zero, by the median scale.

        The moments are read off the first window; when they show that the
        data are not already standardised -- or X is sparse, where a window
        can miss a rare feature -- they are measured over all the rows of
        this pass (one extra read of X, for ``partial_fit`` of its first
        chunk).  Data that are already centred and scaled are left as they
        are, and cost nothing.
        """
        m = Yw.shape[0]
        v = _unit_weights(ww, m)
        moments = _column_moments(Xw, v)
        shift, scale = self._standard_form(*moments, Xw.dtype)
        # The metric of the optimality check, whatever the schedule.
        self.metric = (shift, scale)
        if not self.precondition:
            return
        if self.fit_intercept and not np.any(self.coef) and not np.any(self.intercept):
            self.intercept[:] = v @ Yw  # a cold start begins at the mean target
        if _is_standard(shift, scale) and not sp.issparse(X):
            return  # already standardised: the raw coordinates will do
        n = X.shape[0] if rows is None else len(rows)
        if sample_weight is None:
            weights = np.full(n, 1.0 / n)
        else:
            weights = sample_weight if rows is None else sample_weight[rows]
            weights = _unit_weights(weights, n)
        shift, scale = self._standard_form(*_column_moments(X, weights, rows), Xw.dtype)
        if not _is_standard(shift, scale):
            dtype = self.coef.dtype
            self.shift, self.scale = shift.astype(dtype), scale.astype(dtype)
            self.metric = (self.shift, self.scale)

    def _standard_form(self, mean, variance, dtype):
        """``(shift, scale)`` from the columns' mean and variance."""
        if not self.fit_intercept:
            shift = np.zeros_like(mean)
            spread = np.sqrt(variance + mean**2)
        else:
            shift = mean
            spread = np.sqrt(variance)
        resolution = np.sqrt(np.finfo(dtype).eps) * np.abs(shift)
        varies = spread > resolution
        typical = float(np.median(spread[varies])) if varies.any() else 1.0
        scale = np.where(varies, spread, np.where(shift != 0, np.abs(shift), typical))
        return shift, scale

    def _standardise(self, Xw):
        """The window in the preconditioner's coordinates.

        Dense windows are centred and scaled in the window buffer (a copy of
        the rows, or made one); sparse ones are only scaled, their centring
        is applied implicitly in the update (:meth:`_window_generic`).
        """
        if sp.issparse(Xw):
            return (Xw @ sp.diags(1.0 / self.scale)).tocsr()
        if Xw.base is not self._buffer:  # rows of X itself: never written
            out = self._window_buffer(Xw.shape, Xw.dtype)
            np.subtract(Xw, self.shift, out=out)
        else:
            out = np.subtract(Xw, self.shift, out=Xw)
        return np.divide(out, self.scale, out=out)

    def _to_scaled(self):
        """Coefficients into the preconditioner's coordinates, in place."""
        self.intercept += self.shift @ self.coef
        self.coef *= self.scale[:, None]

    def _to_raw(self):
        """Coefficients back into the features' coordinates, in place."""
        self.coef /= self.scale[:, None]
        self.intercept -= self.shift @ self.coef

    def _raw(self, coef, intercept):
        """Scaled-coordinate coefficients (e.g. averages) in raw coordinates."""
        if self.scale is None:
            return coef, intercept
        coef = coef / self.scale[:, None]
        return coef, intercept - self.shift @ coef

    def _calibrate(self, Zw, Yw, ww, n_rows):
        """Measure the step cap and the stable step; tell the schedule.

        For a smooth loss the stable step is ``1 / (s · L_B)``, ``L_B`` the
        expected curvature of a batch of B rows (see
        :class:`~skla.components.schedules.Auto`).  A loss without a
        curvature bound has subgradients that do not shrink near the
        optimum; its step is the one that moves the predictions by about the
        targets' spread, and ``SAFE_FACTOR`` times that caps every schedule:
        a larger step only makes the iterates oscillate further.
        """
        if sp.issparse(Zw) and self.scale is not None:
            Zw = Zw.toarray() - self.shift / self.scale  # the centred window
        self.max_eta = self._safe_step(Zw, ww)
        m = Yw.shape[0]
        v = _unit_weights(ww, m)
        probe = min(m, _CURVATURE_ROWS)  # rows enough for λmax, little memory
        curvature = _largest_curvature(
            Zw[:probe], v[:probe] / v[:probe].sum(), self.fit_intercept
        )
        self.curvature = curvature  # of the full-batch loss, these coordinates
        norms = _row_norms_squared(Zw) + (1.0 if self.fit_intercept else 0.0)
        single = float(np.max(m * v * norms)) if m else 0.0
        n, B = max(n_rows, 1), min(self.batch_size, max(n_rows, 1))
        if n > 1:  # expected smoothness of a batch of B of n rows
            expected = (n * (B - 1) * curvature + (n - B) * single) / (B * (n - 1))
        else:
            expected = single
        expected = expected if expected > 0 else 1.0
        smoothness = getattr(self.loss, "smoothness", None)
        if smoothness:
            step = 1.0 / (smoothness * expected)
        else:
            spread = float(np.sqrt(v @ np.square(Yw - v @ Yw)).max())
            step = (spread if spread > 0 else 1.0) / expected
            self.max_eta = SAFE_FACTOR * step
        self._calibration = (step, -(-n_rows // self.batch_size), bool(smoothness))
        calibrate = getattr(self.schedule, "calibrate", None)
        if calibrate is not None:
            calibrate(step, period=self._calibration[1], smooth=self._calibration[2])

    # -- the step-size cap ------------------------------------------------

    def _safe_step(self, Xw, ww, n_probe=4):
        """``SAFE_FACTOR / L``, L the largest curvature seen on probe batches.

        For a loss with a smoothness bound ``s``, a mini-batch's loss has
        curvature at most ``s · λmax(Σ_b v_i x̃_i x̃_iᵀ)`` with ``x̃ = [x, 1]``
        (the intercept's column) and ``v_i = w_i / |b|``; an update with a
        step above ``2 / L`` overshoots that batch's minimum and, repeated,
        diverges.  The bound is measured on the first ``n_probe`` batches of
        the first (shuffled) window.  Losses without a smoothness bound get
        their cap from :meth:`_calibrate`.
        """
        smoothness = getattr(self.loss, "smoothness", None)
        if not smoothness:
            return np.inf
        B = self.batch_size
        largest = 0.0
        for j in range(min(n_probe, -(-Xw.shape[0] // B))):
            Xb = Xw[j * B : (j + 1) * B]
            m = Xb.shape[0]
            v = np.full(m, 1.0 / m) if ww is None else ww[j * B : (j + 1) * B] / m
            largest = max(largest, _largest_curvature(Xb, v, self.fit_intercept))
        return SAFE_FACTOR / (smoothness * largest) if largest > 0 else np.inf

    # -- windows ----------------------------------------------------------

    def _gather(self, X, Y, sample_weight, window):
        ww = None if sample_weight is None else sample_weight[window]
        if isinstance(window, slice) or sp.issparse(X):
            return X[window], Y[window], ww
        out = self._window_buffer((len(window), X.shape[1]), X.dtype)
        # mode="clip" skips the bounds check (the rows are valid): faster.
        np.take(X, window, axis=0, out=out, mode="clip")
        return out, Y[window], ww

    def _window_buffer(self, shape, dtype):
        """The first ``shape[0]`` rows of the reusable window buffer."""
        if (
            self._buffer is None
            or self._buffer.shape[0] < shape[0]
            or self._buffer.dtype != dtype
        ):
            self._buffer = np.empty(shape, dtype=dtype)
        return self._buffer[: shape[0]]

    def _window(self, Xw, Yw, ww, etas):
        if (
            Yw.shape[1] == 1
            and not sp.issparse(Xw)
            and getattr(self.loss, "quadratic", False)
            and (self.penalty is None or hasattr(self.penalty, "shrink"))
        ):
            return self._window_squared(Xw, Yw[:, 0], ww, etas)
        return self._window_generic(Xw, Yw, ww, etas)

    def _averaging_from(self, n_batches, n_rows):
        """Index of the window's first batch whose iterate is averaged."""
        if self.average_start is None:
            return n_batches
        seen_after = self.n_seen + np.minimum(
            (np.arange(n_batches) + 1) * self.batch_size, n_rows
        )
        return int(np.searchsorted(seen_after, self.average_start))

    def _window_squared(self, Xw, yw, ww, etas):
        """The fast path: squared loss, dense X, one target, ridge or none."""
        B = self.batch_size
        n_rows = yw.shape[0]
        gemv = _gemv(Xw.dtype)
        coef = np.ascontiguousarray(self.coef[:, 0])  # a view: coef is (d, 1)
        b = self.intercept.dtype.type(self.intercept[0])
        per_coefficient = self.penalty is not None and self.scale is not None
        if self.penalty is None:
            scales = np.ones_like(etas)
        elif per_coefficient:
            # In scaled coordinates the ridge shrinks each coefficient by its
            # own factor 1 / (1 + eta·alpha / scale_j²): applied after the gemv.
            shrink = self.penalty.shrink(np.outer(etas * self.alpha, self.scale**-2.0))
            scales = shrink.astype(Xw.dtype)
        else:
            scales = np.broadcast_to(self.penalty.shrink(etas * self.alpha), etas.shape)
        sizes = np.full(len(etas), B, dtype=np.float64)
        sizes[-1] = n_rows - B * (len(etas) - 1)
        # The gradient gemv's factor -eta * c / |batch| (c: the ridge
        # shrinkage) and the intercept's eta / |batch|.
        if per_coefficient:
            steps = (-etas / sizes).tolist()
        else:
            steps = (-etas * scales / sizes).tolist()
        intercept_steps = (etas / sizes).tolist() if self.fit_intercept else None
        residual = np.negative(yw)  # becomes p - y, batch by batch
        batches = zip(
            _batches(Xw, B, transpose=True),
            _batches(residual, B),
            _batches(ww, B) if ww is not None else repeat(None, len(steps)),
            steps,
            scales if per_coefficient else scales.tolist(),
            intercept_steps or repeat(0.0, len(steps)),
            strict=True,
        )
        average_from = self._averaging_from(len(steps), n_rows)
        add = np.add.reduce
        for j, (Xb, r, w, step, scale, intercept_step) in enumerate(batches):
            if intercept_steps:
                r += b
            # In place: ``residual`` keeps the pre-update residuals for the loss.
            gemv(1.0, Xb, coef, 1.0, r, overwrite_y=1, trans=1)
            g = r if w is None else r * w
            if per_coefficient:
                coef = gemv(step, Xb, g, 1.0, coef, overwrite_y=1)
                coef *= scale
            else:
                coef = gemv(step, Xb, g, scale, coef, overwrite_y=1)
            if intercept_steps:
                b -= intercept_step * add(g)
            if j >= average_from:
                self.coef_sum[:, 0] += coef
                self.intercept_sum[0] += b
                self.n_averaged += 1
        self.coef[:, 0] = coef
        self.intercept[0] = b
        self.n_seen += n_rows
        if ww is None:
            return 0.5 * float(residual @ residual) / n_rows
        total = float(ww.sum())
        return 0.5 * float(residual**2 @ ww) / total if total > 0 else 0.0

    def _window_generic(self, Xw, Yw, ww, etas):
        """Any loss, penalty, X format and number of targets, via the protocols."""
        B = self.batch_size
        n_rows = Yw.shape[0]
        coef, intercept = self.coef, self.intercept
        predictions = np.empty_like(Yw)
        average_from = self._averaging_from(len(etas), n_rows)
        # Sparse windows are scaled but not centred: centre implicitly.
        offset = None
        if self.scale is not None and sp.issparse(Xw) and np.any(self.shift):
            offset = (self.shift / self.scale)[:, None]
        for j, eta in enumerate(etas.tolist()):
            batch = slice(j * B, (j + 1) * B)
            Xb = Xw[batch]
            P = safe_sparse_dot(Xb, coef, dense_output=True)
            if offset is not None:
                P -= (offset * coef).sum(axis=0)
            if self.fit_intercept:
                P += intercept
            predictions[batch] = P
            m = P.shape[0]
            v = np.full(m, 1.0 / m) if ww is None else ww[batch] / m
            G = np.asarray(self.loss.gradient(Yw[batch], P, v), dtype=coef.dtype)
            coef -= eta * safe_sparse_dot(Xb.T, G, dense_output=True)
            if offset is not None:
                coef += eta * offset * G.sum(axis=0)
            if self.penalty is not None:
                coef[...] = self._prox(coef, eta * self.alpha)
            if self.fit_intercept:
                intercept -= eta * G.sum(axis=0)
            if j >= average_from:
                self.coef_sum += coef
                self.intercept_sum += intercept
                self.n_averaged += 1
        self.n_seen += n_rows
        if ww is None:
            v = np.full(n_rows, 1.0 / n_rows)
        else:
            total = float(ww.sum())
            if total <= 0:
                return 0.0
            v = ww / total
        return float(self.loss.value(Yw, predictions, v))

    def optimality(self, X, Y, sample_weight, coef, intercept):
        r"""The full gradient mapping's norm, the objective and the step used.

        The gradient mapping at ``(coef, intercept)`` is

        :math:`\lVert \theta - \operatorname{prox}_{\eta \alpha R}(\theta -
        \eta \nabla F(\theta)) \rVert / \eta` over all rows, with
        :math:`\eta = 1 / \lambda_{\max}` of the full-batch loss, in
        standardised coordinates (each feature centred and scaled as measured
        on the first window), so that no feature's scale dominates it.  It is
        zero exactly at the optimum of a smooth loss, and a proximal gradient
        step of size :math:`\eta` would lower the objective by at least
        :math:`\eta \lVert G \rVert^2 / 2`.  One pass over X; ``coef`` has
        shape (n_features, n_targets).

        Returns
        -------
        norm : float
        objective : float
            Mean loss + alpha · penalty.
        eta : float
        """
        n = X.shape[0]
        v = _unit_weights(sample_weight, n)
        P = safe_sparse_dot(X, coef, dense_output=True)
        if self.fit_intercept:
            P = P + intercept
        objective = float(self.loss.value(Y, P, v))
        if self.penalty is not None:
            objective += self.alpha * float(self.penalty.value(coef))
        G = np.asarray(self.loss.gradient(Y, P, v), dtype=np.float64)
        grad = np.asarray(safe_sparse_dot(X.T, G, dense_output=True))
        grad_b = G.sum(axis=0) if self.fit_intercept else np.zeros(G.shape[1])
        shift, scale = self.metric
        # To standardised coordinates: γ = scale·β, c = b + shiftᵀβ.
        scale = scale[:, None]
        grad = (grad - np.outer(shift, grad_b)) / scale
        gamma = coef * scale
        eta = 1.0 / self._metric_curvature(X, sample_weight)
        moved = gamma - eta * grad
        if self.penalty is not None:
            moved = self.penalty.prox(moved / scale, eta * self.alpha / scale**2)
            moved = moved * scale
        mapping = np.concatenate([(gamma - moved).ravel(), eta * grad_b]) / eta
        return float(np.linalg.norm(mapping)), objective, eta

    def _metric_curvature(self, X, sample_weight):
        """λmax of the full-batch loss in the metric's coordinates."""
        smoothness = getattr(self.loss, "smoothness", None) or 1.0
        if self.scale is not None and self.curvature:
            return smoothness * self.curvature  # measured in these coordinates
        rows = min(X.shape[0], _CURVATURE_ROWS)
        Z = X[:rows]
        Z = Z.toarray() if sp.issparse(Z) else np.asarray(Z, dtype=np.float64)
        shift, scale = self.metric
        Z = (Z - shift) / scale
        v = _unit_weights(None if sample_weight is None else sample_weight[:rows], rows)
        curvature = _largest_curvature(Z, v, self.fit_intercept)
        return smoothness * curvature if curvature > 0 else 1.0

    def _prox(self, coef, step):
        """The penalty's prox, in scaled coordinates if preconditioned.

        With ``β = γ / scale`` the prox of ``step · R(β)`` in the metric of
        the scaled coordinates is ``scale · prox_R(γ / scale, step / scale²)``
        for a separable R: one step per coefficient, which the penalty
        protocol allows (the steps of a diagonal metric).
        """
        if self.scale is None:
            return self.penalty.prox(coef, step)
        scale = self.scale[:, None]
        return self.penalty.prox(coef / scale, step / scale**2) * scale

    # -- divergence -------------------------------------------------------

    def _check(self, loss, etas, Yw, ww):
        if self._baseline is None:
            # The loss of predicting 0 sets the scale (never 0 unless y is).
            m = Yw.shape[0]
            v = np.full(m, 1.0 / m) if ww is None or ww.sum() <= 0 else ww / ww.sum()
            zero = float(self.loss.value(Yw, np.zeros_like(Yw), v))
            self._baseline = max(loss, zero, np.finfo(np.float64).tiny)
        finite = np.isfinite(loss) and np.isfinite(self.coef).all()
        finite = finite and np.isfinite(self.intercept).all()
        if finite and loss <= _EXPLODED * self._baseline:
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
            "Lower eta0, scale the features (e.g. with StandardScaler), or use "
            "learning_rate='auto', which measures its step from the data."
        )

    def objective(self, X, Y, sample_weight, coef, intercept):
        """The full objective, mean loss + alpha · penalty, over all rows."""
        v = _unit_weights(sample_weight, X.shape[0])
        P = safe_sparse_dot(X, coef, dense_output=True)
        if self.fit_intercept:
            P = P + intercept
        value = float(self.loss.value(Y, P, v))
        if self.penalty is not None:
            value += self.alpha * float(self.penalty.value(coef))
        return value
