"""The weighted, centred least-squares problem, handed to least-squares solvers.

Fitting a linear model with an intercept and sample weights ``w`` is the
ordinary least-squares problem

.. math::

    \\min_x \\; \\|A x - B\\|_F^2 + \\alpha \\|x\\|_2^2, \\qquad
    A = \\operatorname{diag}(\\sqrt{w})\\,(X - \\mathbf{1}\\mu^\\top), \\quad
    B = \\operatorname{diag}(\\sqrt{w})\\,(Y - \\mathbf{1}\\nu^\\top),

where :math:`\\mu, \\nu` are the weighted column means (zero without an
intercept).  :class:`LstsqProblem` describes ``A`` and ``B`` *without forming
A*: a solver asks for what it needs -- row blocks, the Gram matrix, a linear
operator, or (at the cost of a copy of X) the dense matrix.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .centred import centred_dot, centred_tdot
from .gram import Gram, dense_gram
from .moments import weighted_mean

__all__ = ["LstsqProblem", "centred_problem"]

# Row blocks hold about 2**18 numbers (2 MiB in float64): large enough for BLAS
# and LAPACK to run at full speed, small enough to stay far below the size of X.
_BLOCK_ELEMENTS = 2**18


class LstsqProblem:
    """Least squares on implicitly centred and weighted data.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The data, float32 or float64; never modified unless ``overwrite_X``.
    Y : ndarray of shape (n_samples, n_targets)
        The targets, same dtype as X.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights; None means all ones.
    X_offset : ndarray of shape (n_features,), "mean" or None
        The centre subtracted from every row of X (None: no centring).
        ``"mean"``: the weighted column means, computed when first read --
        or, by :meth:`gram`, in the same pass as the Gram matrix.
    Y_offset : ndarray of shape (n_targets,) or None
        The centre subtracted from every row of Y.
    overwrite_X : bool, default=False
        Allow :meth:`dense` to centre X in place instead of copying it.

    Examples
    --------
    >>> import numpy as np
    >>> from skla._data import LstsqProblem
    >>> X = np.array([[1.0, 2.0], [3.0, 5.0], [5.0, 4.0]])
    >>> Y = np.array([[1.0], [2.0], [4.0]])
    >>> problem = LstsqProblem(X, Y, None, X.mean(0), Y.mean(0))
    >>> gram = problem.gram()
    >>> np.allclose(gram.G, (X - X.mean(0)).T @ (X - X.mean(0)))
    True
    """

    def __init__(
        self,
        X: Any,  # ndarray or scipy.sparse matrix
        Y: np.ndarray,
        sample_weight: np.ndarray | None,
        X_offset: np.ndarray | str | None,
        Y_offset: np.ndarray | None,
        overwrite_X: bool = False,
    ):
        if isinstance(X_offset, str) and X_offset != "mean":
            raise ValueError(f"X_offset={X_offset!r}: an array, 'mean' or None.")
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self._X_offset = X_offset
        self.Y_offset = Y_offset
        self.overwrite_X = overwrite_X

    def __repr__(self) -> str:
        return f"LstsqProblem(shape={self.shape}, n_targets={self.n_targets})"

    @property
    def X_offset(self) -> np.ndarray | None:
        """The centre of X's rows (computed on first read for ``"mean"``)."""
        offset = self._X_offset
        if isinstance(offset, str):
            offset = self._X_offset = weighted_mean(self.X, self.sample_weight)
        return offset

    @property
    def mean_pending(self) -> bool:
        """Whether X is to be centred on its mean, not yet computed."""
        return isinstance(self._X_offset, str)

    def set_mean(self, mean: np.ndarray) -> None:
        """The mean, where computed in another pass (:meth:`gram`)."""
        if not self.mean_pending:
            raise ValueError("X_offset is set already.")
        self._X_offset = mean

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_samples, n_features)`` of A."""
        return self.X.shape

    @property
    def n_targets(self) -> int:
        """Number of columns of B."""
        return self.Y.shape[1]

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the data (float32 or float64)."""
        return self.X.dtype

    @property
    def is_sparse(self) -> bool:
        """Whether X is a scipy sparse matrix or array."""
        return sp.issparse(self.X)

    @property
    def total_weight(self) -> float:
        """``Σ wᵢ`` (the number of rows without weights), in float64."""
        w = self.sample_weight
        return float(self.shape[0] if w is None else w.sum(dtype=np.float64))

    def column_sums_of_squares(self) -> np.ndarray:
        """``Σ wᵢ (xᵢⱼ - μⱼ)²`` for each column j, without copying X.

        Dense X is centred block by block; sparse X is corrected by the
        rank-one centring term (clipped at 0).
        """
        if not self.is_sparse:
            total = np.zeros(self.shape[1])
            for a, _ in self.blocks():
                total += np.einsum("ij,ij->j", a, a)
            return total
        X, w = self.X, self.sample_weight
        squares = X.multiply(X)
        raw = squares.sum(axis=0) if w is None else squares.T @ w
        raw = np.asarray(raw, dtype=np.float64).ravel()
        if self.X_offset is not None:
            raw = raw - self.total_weight * self.X_offset**2
        return np.maximum(raw, 0.0)

    @cached_property
    def _sqrt_weight(self):
        if self.sample_weight is None:
            return None
        return np.sqrt(self.sample_weight, dtype=np.float64)

    @property
    def sqrt_weight(self) -> np.ndarray | None:
        """``√w`` in float64 (None without weights)."""
        return self._sqrt_weight

    def rhs(self) -> np.ndarray:
        """B, the centred and weighted targets, in float64."""
        return self._centre_and_weight(self.Y, self.Y_offset, slice(None))

    def _centre_and_weight(self, block, offset, rows, out=None):
        block = block.toarray() if sp.issparse(block) else block
        if out is None:
            out = np.empty(block.shape, dtype=np.float64)
        if offset is None:
            out[...] = block
        else:
            np.subtract(block, offset, out=out)
        if self._sqrt_weight is not None:
            out *= self._sqrt_weight[rows, None]
        return out

    @cached_property
    def _row_sliceable_X(self):
        # Row blocks of a CSC matrix are slow to cut; CSR is a copy of the
        # non-zeros only, never a dense array.
        return self.X.tocsr() if self.is_sparse else self.X

    def block(self, rows: slice, out_a=None, out_b=None) -> tuple:
        """Rows ``rows`` of A and B, dense float64, optionally written into ``out_*``.

        Parameters
        ----------
        rows : slice
            A contiguous range of rows (step 1).
        out_a, out_b : ndarray, default=None
            Float64 arrays of shape (rows, n_features) and (rows, n_targets) to
            fill, e.g. views into a larger work array.

        Returns
        -------
        A_block, B_block : ndarray
        """
        X = self._row_sliceable_X
        a = self._centre_and_weight(X[rows], self.X_offset, rows, out_a)
        b = self._centre_and_weight(self.Y[rows], self.Y_offset, rows, out_b)
        return a, b

    def centred_rows(self, rows: slice, centre, out=None) -> np.ndarray:
        """Rows ``rows`` of X centred on ``centre`` (None: not centred) and
        weighted, dense float64, optionally written into ``out``."""
        block = self._row_sliceable_X[rows]
        return self._centre_and_weight(block, centre, rows, out)

    def centred_targets(self, rows: slice, out=None) -> np.ndarray:
        """Rows ``rows`` of B, optionally written into ``out``."""
        return self._centre_and_weight(self.Y[rows], self.Y_offset, rows, out)

    def row_blocks(self, n_rows: int | None = None) -> Iterator[slice]:
        """Consecutive row ranges of about ``n_rows`` rows covering A.

        Parameters
        ----------
        n_rows : int, default=None
            Rows per block; by default about 2**18 numbers per block, and at
            least 1024 rows.

        Yields
        ------
        rows : slice
        """
        n_samples, n_features = self.shape
        if n_rows is None:
            # Thin blocks make poor rank-k updates when n_features is large:
            # keep at least 1024 rows (measured: Gram of 20000×1000 takes
            # 0.37 s with 262-row blocks, 0.32 s with 1024).
            n_rows = max(1024, _BLOCK_ELEMENTS // max(n_features, 1))
        for start in range(0, n_samples, n_rows):
            yield slice(start, min(start + n_rows, n_samples))

    def blocks(self, n_rows: int | None = None) -> Iterator[tuple]:
        """Yield ``(A_block, B_block)``: consecutive row blocks, dense, float64.

        Each block is centred and weighted on the fly; the arrays are reused
        between iterations, so use (or copy) a block before asking for the next.

        Parameters
        ----------
        n_rows : int, default=None
            Rows per block; by default about 2**18 numbers per block.

        Yields
        ------
        A_block : ndarray of shape (rows, n_features)
        B_block : ndarray of shape (rows, n_targets)
        """
        a_buf = b_buf = None
        for rows in self.row_blocks(n_rows):
            size = rows.stop - rows.start
            if a_buf is None or b_buf is None:
                a_buf = np.empty((size, self.shape[1]))
                b_buf = np.empty((size, self.n_targets))
            yield self.block(rows, a_buf[:size], b_buf[:size])

    def gram(self, n_rows: int | None = None) -> Gram:
        """The Gram matrix ``AᵀA`` and ``AᵀB`` in float64, without forming A.

        Dense X is centred block by block, so no cancellation occurs however
        large the column means are; a ``"mean"`` still to be computed is
        computed in the same pass (see :func:`~skla._data.gram.dense_gram`).
        Sparse X is never densified: the Gram matrix of the raw data is
        corrected by the rank-one centring term, which loses accuracy in
        proportion to the size of that term.

        Parameters
        ----------
        n_rows : int, default=None
            Rows per block for dense X (see :meth:`row_blocks`).

        Returns
        -------
        gram : Gram
            ``G`` (n_features, n_features), ``AtB`` (n_features, n_targets),
            and the roundoff ``eps`` and ``offset_scale`` that bound G's error.
        """
        if self.is_sparse:
            return self._sparse_gram()
        return dense_gram(self, n_rows)

    def _sparse_gram(self):
        # In float64 whatever X's dtype (a copy of the non-zeros of float32
        # X): float32 sums of 1e5 products lose 1e-4 of them, and the
        # centring term cancels most of what is left.
        X = self.X.astype(np.float64, copy=False)
        w = self.sample_weight
        WX = X if w is None else sp.diags_array(w.astype(np.float64)) @ X
        G = (X.T @ WX).toarray()
        Yc = self.Y if self.Y_offset is None else self.Y - self.Y_offset
        WYc = Yc if w is None else Yc * w[:, None]
        AtB = np.asarray(X.T @ WYc, dtype=np.float64)
        offset_scale = 0.0
        if self.X_offset is not None:
            mu = self.X_offset
            total = self.total_weight
            G -= total * np.outer(mu, mu)
            AtB -= np.outer(mu, WYc.sum(axis=0))
            offset_scale = total * float(mu @ mu)
        return Gram(G, AtB, float(np.finfo(np.float64).eps), offset_scale)

    def operator(self) -> LinearOperator:
        """A as a :class:`scipy.sparse.linalg.LinearOperator` (float64)."""
        X, mu, sw = self.X, self.X_offset, self._sqrt_weight

        def matvec(v):
            out = centred_dot(X, np.ravel(v), mu)
            return out if sw is None else out * sw

        def rmatvec(u):
            u = np.ravel(u)
            return centred_tdot(X, u if sw is None else u * sw, mu)

        return LinearOperator(
            self.shape, matvec=matvec, rmatvec=rmatvec, dtype=np.float64
        )

    def dense(self, dtype=None) -> np.ndarray:
        """A as a dense array in ``dtype`` (None: the data's dtype).

        This costs a copy of X, except with ``overwrite_X=True`` on a dense,
        writeable X of that dtype, which is then centred and weighted in
        place.  The copy is made in ``dtype`` before centring, so float32
        data centred in float64 lose nothing to rounding.

        Raises
        ------
        TypeError
            If X is sparse: forming A would densify it.
        """
        if self.is_sparse:
            raise TypeError(
                "This least-squares solver needs a dense X, and X is sparse; "
                "use solver='auto', 'gram' or 'lsqr' to keep X sparse."
            )
        X = self.X
        dtype = X.dtype if dtype is None else np.dtype(dtype)
        in_place = self.overwrite_X and X.flags.writeable and X.dtype == dtype
        A = X if in_place else X.astype(dtype)
        if self.X_offset is not None:
            A -= self.X_offset.astype(A.dtype)
        if self._sqrt_weight is not None:
            A *= self._sqrt_weight.astype(A.dtype)[:, None]
        return A


def centred_problem(X, Y, sample_weight, *, centre, overwrite_X=False):
    """The problem of the rows, centred by their weighted means if ``centre``
    (implicitly: X is not copied), weighted by ``sample_weight``."""
    X_offset = Y_offset = None
    if centre:
        X_offset = "mean"  # computed when needed: the Gram pass computes it too
        Y_offset = weighted_mean(Y, sample_weight)
    return LstsqProblem(
        X, Y, sample_weight, X_offset, Y_offset, overwrite_X=overwrite_X
    )
