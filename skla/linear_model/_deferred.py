"""Fitted attributes computed when first read, not when fitted.

A fit may leave work that only some users need -- the singular values a
Cholesky solve did not need, the solve of a stream after every chunk when
only the last one is read -- to the first read of the attributes it sets.
:class:`DeferredAttributes` keeps that work as data (the name of a method
and its arguments, never a closure over the estimator, so that copies and
pickles stay independent) and runs it once, on the first read of any of
the named attributes, or before the estimator is pickled.
"""

from __future__ import annotations

__all__ = ["DeferredAttributes"]


class DeferredAttributes:
    """Mixin: ``_defer(names, method, *args)`` runs ``method(*args)`` (which
    sets ``names``) when one of ``names`` is first read.

    Examples
    --------
    >>> class Model(DeferredAttributes):
    ...     def _square(self, x):
    ...         print("computing")
    ...         self.square_ = x * x
    >>> model = Model()
    >>> model._defer(("square_",), "_square", 3)
    >>> model.square_
    computing
    9
    >>> model.square_
    9
    """

    def _defer(self, names, method, *args):
        """Drop ``names`` (from an earlier fit) and defer their computation."""
        for name in names:
            self.__dict__.pop(name, None)
        self._deferred = (tuple(names), method, args)

    def _cancel_deferred(self):
        """A new fit sets the attributes itself: forget the pending work."""
        self.__dict__.pop("_deferred", None)

    def _run_deferred(self):
        """Run the pending work, if any; it stays pending if it fails, so
        that every read reports the failure."""
        deferred = self.__dict__.get("_deferred")
        if deferred is not None:
            _, method, args = deferred
            getattr(self, method)(*args)
            if self.__dict__.get("_deferred") is deferred:  # none set since
                del self._deferred

    def __getattr__(self, name):
        # Reached only where normal lookup fails.
        deferred = self.__dict__.get("_deferred")
        if deferred is None or name not in deferred[0]:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            )
        self._run_deferred()
        return getattr(self, name)

    def __getstate__(self):
        # A pickle carries the results, not the work (nor its inputs).
        self._run_deferred()
        return super().__getstate__()
