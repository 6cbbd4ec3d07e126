"""A stream of chunks: ``partial_fit`` folds each chunk's statistics in.

Each chunk is validated and reduced to its
:class:`~skla._algorithms.statistics.RowStatistics` by its own backend --
in memory, or on an array-API device -- and merged exactly with those of
the chunks before it; the estimator then solves from the merged
statistics, as the dask route does from its tree reduction.  The state is
``(d + k)²`` numbers and the name of the namespace the fitted arrays live
in (``backend.fitted_in``): every chunk must lead there (a numpy or dask
chunk after torch chunks, or a chunk on another device, is refused).
"""

from __future__ import annotations

import warnings

__all__ = ["fold", "forget", "keep", "starts"]


def starts(estimator, fitted="coef_"):
    """Whether this ``partial_fit`` call starts a stream; warn when it
    follows a ``fit`` (``fitted`` set), whose rows are not in the stream."""
    if hasattr(estimator, "_statistics"):
        return False
    if hasattr(estimator, fitted):
        warnings.warn(
            f"{type(estimator).__name__}.partial_fit after fit starts a new "
            "stream: the rows given to fit are not in it. Feed every chunk "
            "through partial_fit for the fit of all rows.",
            UserWarning,
            stacklevel=4,
        )
    return True


def fold(estimator, backend, chunk, *, first):
    """The statistics of the rows so far with the chunk's (``chunk``, from
    ``backend``) merged in -- or a clear refusal: chunks from another
    namespace or device, another ``fit_intercept``, another number of
    targets.  Nothing is stored: :func:`keep` does, once the fit is set."""
    if first:
        return chunk
    source = getattr(estimator, "_stream_source", "numpy")
    if backend.fitted_in != source:
        raise ValueError(
            f"partial_fit got a chunk of {backend.fitted_in} after chunks of "
            f"{source}: "
            "every chunk of a stream must come from the same array namespace "
            "and device. Move the chunk there first, or call fit to start over."
        )
    seen = estimator._statistics
    if seen.centred != chunk.centred:
        raise ValueError(
            f"fit_intercept={chunk.centred} differs from the earlier "
            "partial_fit calls; call fit, or partial_fit on a new "
            "estimator, to change it."
        )
    if chunk.n_targets != seen.n_targets:
        raise ValueError(
            f"y has {chunk.n_targets} target(s) but the earlier chunks had "
            f"{seen.n_targets}."
        )
    return seen.merge(chunk)


def keep(estimator, backend, statistics):
    """Store the stream's state on the estimator (after a successful call)."""
    estimator._statistics = statistics
    estimator._stream_source = backend.fitted_in


def forget(estimator):
    """``fit`` starts over: the next ``partial_fit`` starts a new stream."""
    for name in ("_statistics", "_stream_source"):
        estimator.__dict__.pop(name, None)
