"""Iterate averaging for SGD: running sums, and the tail of the run.

SGD with a constant step converges only on average (Bach & Moulines, 2013).
:class:`IterateAverage` keeps the running sums of the iterates and, at each
epoch that is a power of two, a snapshot of them, so that the average over
the *tail* of the run -- the epochs after epoch ``s``, the largest power of
two not above half the epochs done -- is a difference of two sums.
"""

from __future__ import annotations

import numpy as np

__all__ = ["IterateAverage"]


class IterateAverage:
    """Running sums of the coefficients and intercept, with tail snapshots.

    Parameters
    ----------
    coef_shape, intercept_shape : tuple of int
        Shapes of the averaged arrays.
    tail : bool
        Average over the tail of the run (see :meth:`mean`) instead of over
        every update added.

    Attributes
    ----------
    coef_sum, intercept_sum : ndarray
        The sums, float64; callers add iterates to them in place.
    count : int
        Number of iterates added.
    epochs : int
        Number of epoch boundaries marked.

    Examples
    --------
    >>> import numpy as np
    >>> average = IterateAverage((1, 1), (1,), tail=True)
    >>> for epoch in range(4):
    ...     average.add(np.array([[float(epoch)]]), np.array([0.0]))
    ...     average.end_epoch()
    >>> average.mean()[0]  # epochs 2 and 3: the last half
    array([[2.5]])
    """

    def __init__(self, coef_shape, intercept_shape, *, tail):
        self.tail = tail
        self.coef_sum = np.zeros(coef_shape)
        self.intercept_sum = np.zeros(intercept_shape)
        self.count = 0
        self.epochs = 0
        self._marks = {0: (self.coef_sum.copy(), self.intercept_sum.copy(), 0)}

    def add(self, coef, intercept):
        """Add one iterate."""
        self.coef_sum += coef
        self.intercept_sum += intercept
        self.count += 1

    def end_epoch(self):
        """Mark an epoch boundary (where tail averages may start)."""
        self.epochs += 1
        e = self.epochs
        if e & (e - 1) == 0:  # a power of two
            self._marks[e] = (
                self.coef_sum.copy(),
                self.intercept_sum.copy(),
                self.count,
            )
            for old in [k for k in self._marks if k < e // 2]:
                del self._marks[old]

    def mean(self):
        """``(coef, intercept)`` averaged, or None if nothing was added.

        With ``tail``, the average runs over the epochs after epoch ``s``, the
        largest power of two not above half the epochs done: the last half
        to three quarters of the run.  Uniform averaging from the start would
        keep the transient from the starting point, which with mini-batches
        -- 32 times fewer updates per epoch than per-sample SGD -- weighs for
        many epochs.  Two snapshots of the running sums suffice.
        """
        coef_sum, intercept_sum, count = self.coef_sum, self.intercept_sum, 0
        if self.tail:
            e = self.epochs
            start = (1 << (e.bit_length() - 1)) // 2 if e >= 2 else 0
            coef0, intercept0, count = self._marks[start]
            coef_sum, intercept_sum = coef_sum - coef0, intercept_sum - intercept0
        count = self.count - count
        if count == 0:
            return None
        return coef_sum / count, intercept_sum / count
