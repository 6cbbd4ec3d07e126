r"""How mini-batch SGD reads X: an epoch as windows of whole batches.

A mini-batch of shuffled rows is a gather, and
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
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK_BYTES", "WINDOW_BYTES", "batches", "epoch_windows"]

BLOCK_BYTES = 16 * 1024
WINDOW_BYTES = 2 * 1024 * 1024


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
    if batch_size >= n_rows:
        # One batch of every row: its gradient is the same in any order, so
        # the rows are read where they are, not gathered into a shuffle.
        rng = None
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


def batches(a, size, *, transpose=False):
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
