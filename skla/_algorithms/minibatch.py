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
from sklearn.utils.extmath import row_norms, safe_sparse_dot

from .._data import unit_weights
from ..exceptions import DivergenceError
from .standardise import measure

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
        self.epochs = 0
        self.coef_sum = np.zeros(coef.shape)
        self.intercept_sum = np.zeros(intercept.shape)
        self.n_averaged = 0
        self._marks = {0: (self.coef_sum.copy(), self.intercept_sum.copy(), 0)}
        self.max_eta = None
        self.rng = None
        self.standard = None  # the preconditioner (a Standardisation), if any
        self.metric = None  # the standardised coordinates of the optimality check
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
                loss = self._window(Xw, Yw, ww, etas)
                weight = Yw.shape[0] if ww is None else float(ww.sum())
                self.t += n_batches
                self._check(loss, rates, Yw, ww)
                total_loss += loss * weight
                total_weight += weight
        if scaled:
            self.standard.to_raw(self.coef, self.intercept)
        self.end_epoch()
        return total_loss / total_weight if total_weight > 0 else 0.0

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

        For a smooth loss the stable step is ``1 / (s · L_B)``, ``L_B`` the
        expected curvature of a batch of B rows (see
        :class:`~skla.components.schedules.Auto`).  A loss without a
        curvature bound has subgradients that do not shrink near the
        optimum; its step is the one that moves the predictions by about the
        targets' spread, and ``SAFE_FACTOR`` times that caps every schedule:
        a larger step only makes the iterates oscillate further.  So is a
        smooth loss whose gradient is bounded (``gradient_bound``, Huber's
        ``epsilon``) below the targets' spread: most residuals sit where it
        is linear.
        """
        if sp.issparse(Zw) and self.standard is not None:
            Zw = Zw.toarray() - self.standard.offset  # the centred window
        self.max_eta = self._safe_step(Zw, ww)
        m = Yw.shape[0]
        v = unit_weights(ww, m)
        probe = min(m, _CURVATURE_ROWS)  # rows enough for λmax, little memory
        curvature = _largest_curvature(
            Zw[:probe], v[:probe] / v[:probe].sum(), self.fit_intercept
        )
        self.curvature = curvature  # of the full-batch loss, these coordinates
        norms = row_norms(Zw, squared=True) + (1.0 if self.fit_intercept else 0.0)
        single = float(np.max(m * v * norms)) if m else 0.0
        n, B = max(n_rows, 1), min(self.batch_size, max(n_rows, 1))
        if n > 1:  # expected smoothness of a batch of B of n rows
            expected = (n * (B - 1) * curvature + (n - B) * single) / (B * (n - 1))
        else:
            expected = single
        expected = expected if expected > 0 else 1.0
        smoothness = getattr(self.loss, "smoothness", None)
        bound = getattr(self.loss, "gradient_bound", None)
        spread = float(np.sqrt(v @ np.square(Yw - v @ Yw)).max())
        linear = not smoothness or (bound is not None and bound < spread)
        if not linear:
            step = 1.0 / (smoothness * expected)
        else:
            # (Sub)gradients that do not shrink with the residual: a step
            # that moves the predictions by about the targets' spread.
            spread = spread if spread > 0 else 1.0
            step = spread / ((bound or 1.0) * expected)
            self.max_eta = max(self.max_eta if smoothness else 0.0, SAFE_FACTOR * step)
        self._calibration = (step, -(-n_rows // self.batch_size), not linear)
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
        per_coefficient = self.penalty is not None and self.standard is not None
        if self.penalty is None:
            scales = np.ones_like(etas)
        elif per_coefficient:
            # In scaled coordinates the ridge shrinks each coefficient by its
            # own factor 1 / (1 + eta·alpha / scale_j²): applied after the gemv.
            scales = self.standard.shrink(self.penalty, etas * self.alpha)
            scales = scales.astype(Xw.dtype)
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
        if self.standard is not None and sp.issparse(Xw):
            offset = self.standard.offset[:, None]
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
                step = eta * self.alpha
                if self.standard is None:
                    coef[...] = self.penalty.prox(coef, step)
                else:
                    coef[...] = self.standard.prox(self.penalty, coef, step)
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

    def _check(self, loss, etas, Yw, ww):
        if self._baseline is None:
            # The loss of predicting 0 sets the scale (never 0 unless y is).
            v = unit_weights(ww, Yw.shape[0])
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
