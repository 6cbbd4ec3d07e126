"""TruncatedSVDCompressor: the seed's rank-k approximation as a transformer."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._algorithms.svd_figures import coordinates, exact_svd_figures
from .._algorithms.svd_figures import (  # noqa: F401 (tests import it from here)
    total_variance as _total_variance,
)
from .._backends import backend_for, stream
from .._doc_links import DocLinkMixin
from ..components.svd import SVDSolver
from ..plugins import parameter_constraint, resolve
from ..utils._typing import ArrayResult, MatrixLike, fit_context

__all__ = ["TruncatedSVDCompressor"]

# The fitted arrays, moved to the namespace and device of an array-API X.
_ARRAY_ATTRIBUTES = (
    "components_",
    "singular_values_",
    "explained_variance_",
    "explained_variance_ratio_",
    "explained_energy_ratio_",
)


class TruncatedSVDCompressor(
    DocLinkMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    r"""Rank-k approximation by truncated SVD, with what it costs and keeps.

    The seed's photo experiment as a transformer.  ``fit`` finds the top
    ``k`` singular triplets of X (m samples × n features),
    :math:`X \approx U_k \Sigma_k V_k^\top`; ``transform`` projects onto the
    right singular vectors, :math:`Z = X V_k`, and ``inverse_transform``
    maps back, :math:`\hat X = Z V_k^\top` -- the best rank-k approximation
    of the training data (Eckart–Young).  Storing :math:`U_k, \Sigma_k, V_k`
    takes :math:`k(m + n + 1)` numbers instead of :math:`mn`.

    It follows :class:`sklearn.decomposition.TruncatedSVD` (no centring, the
    same attributes and signs) and adds the energy criterion, the error and
    the compression ratio.

    Parameters
    ----------
    n_components : int or float, default=2
        An int ``k >= 1``: the rank.  A float in (0, 1): the smallest rank
        whose singular values keep that fraction of the energy,
        :math:`\sum_{i \le k} \sigma_i^2 \ge f \|X\|_F^2`, found without a full
        SVD (the randomized basis grows until it holds the fraction).
    algorithm : str or object, default="auto"
        ``"auto"`` (block Lanczos that stops when its known error stops
        falling, singular values of photographs within 1e-3 of a full
        SVD's; exact for
        small matrices, and for tall or wide ones by their R factor without a
        copy of X), ``"lanczos"`` (the same to ``tol``),
        ``"randomized"``, ``"full"`` (LAPACK ``gesdd``, the
        seed's method: it copies X and holds all of U, 2× X), ``"arpack"``,
        ``"propack"`` (which fall back to LAPACK, with a warning, if they do
        not converge), another registered SVD solver, or an object
        implementing :class:`~skla.components.svd.SVDSolver`.  A tall or
        wide X with a side of at most 200 is factorised through its R factor
        by every algorithm but ``"full"``: ``fit``'s peak extra memory on
        200000×100 Gaussian data is 0.02× X at rank 1 and 0.05× at the
        energy fraction 0.9 (k = 90), as at every rank; ``fit_transform``
        adds the coordinates it returns (0.9× X at k = 90).  X
        with entries beyond 1e±60 is solved scaled by a power of two, on a
        copy.  A dask array or DataFrame is fitted on its cluster
        (:mod:`skla._backends.dask.svd`): exactly from its R factor for
        "full", "arpack", "propack", and "auto" up to 1024 features; else
        by a randomized range finder.
    n_oversamples : int, default=10
        Extra random vectors of the randomized solvers (at least this many
        for "auto").
    n_iter : int or "auto", default="auto"
        Power iterations of the randomized solvers.
    random_state : int, RandomState instance or None, default=None
        Seeds the randomized and Lanczos solvers.
    tol : float, default=0.0
        Tolerance of ARPACK and PROPACK, and of ``"lanczos"`` (the share of
        the error left that a block may still add; 0: machine precision).

    Attributes
    ----------
    components_ : ndarray of shape (`n_components_`, n_features)
        The right singular vectors :math:`V_k^\top`, signs fixed by
        :func:`~sklearn.utils.extmath.svd_flip`.
    singular_values_ : ndarray of shape (`n_components_`,)
        :math:`\sigma_1 \ge \dots \ge \sigma_k`.
    n_components_ : int
        The rank k (chosen, when ``n_components`` is a fraction).
    explained_variance_ : ndarray of shape (`n_components_`,)
        Variance of each column of ``transform(X)``, as in TruncatedSVD.
    explained_variance_ratio_ : ndarray of shape (`n_components_`,)
        That variance over the total variance of X, as in TruncatedSVD (not
        monotone: X is not centred).
    explained_energy_ratio_ : ndarray of shape (`n_components_`,)
        :math:`\sigma_i^2 / \|X\|_F^2`: decreasing, and summing to the share
        of X that the approximation keeps.
    reconstruction_error_ : float
        :math:`\|X - X V_k V_k^\top\|_F / \|X\|_F` on the training data.
    compression_ratio_ : float
        :math:`mn / (k(m + n + 1))` for the training matrix.
    algorithm_ : object or None
        The resolved SVD solver; None after :meth:`partial_fit`, which takes
        the exact SVD of its statistics.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    sklearn.decomposition.TruncatedSVD : The same transform, without the
        energy criterion and the error and compression figures.
    skla.image : Photographs compressed channel by channel.

    Examples
    --------
    >>> import numpy as np
    >>> from skla import TruncatedSVDCompressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 4)) @ rng.standard_normal((4, 200))
    >>> svd = TruncatedSVDCompressor(n_components=4, random_state=0).fit(X)
    >>> round(svd.reconstruction_error_, 12), round(svd.compression_ratio_, 1)
    (0.0, 29.9)
    >>> svd.inverse_transform(svd.transform(X)).shape
    (300, 200)
    >>> energy = TruncatedSVDCompressor(n_components=0.75).fit(X)
    >>> energy.n_components_, round(float(energy.explained_energy_ratio_.sum()), 3)
    (3, 0.822)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
        ],
        "algorithm": parameter_constraint("svd_solver"),
        "n_oversamples": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components: int | float = 2,
        *,
        algorithm: str | SVDSolver = "auto",
        n_oversamples: int = 10,
        n_iter: int | str = "auto",
        random_state: int | np.random.RandomState | None = None,
        tol: float = 0.0,
    ) -> None:
        self.n_components = n_components
        self.algorithm = algorithm
        self.n_oversamples = n_oversamples
        self.n_iter = n_iter
        self.random_state = random_state
        self.tol = tol

    def fit(self, X: MatrixLike, y: object = None) -> TruncatedSVDCompressor:
        """Find the top singular triplets of X.

        fit returns no coordinates: the solver is asked not to form the
        left vectors (``compute_u=False``), and the figures come from those
        it returns anyway, else from one pass of ``X V`` by row blocks, so
        no n_samples × k array is formed where the solver can do without.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (for an image: rows of pixels).
        y : None
            Ignored.

        Returns
        -------
        self : TruncatedSVDCompressor
            The fitted transformer.
        """
        self._fit(X, coordinates_wanted=False)
        return self

    def fit_transform(self, X: MatrixLike, y: object = None) -> ArrayResult:
        """Fit and return ``transform(X)``, the coordinates ``X V_k``.

        They equal ``fit(X).transform(X)`` exactly, for every algorithm:
        an approximate SVD's ``U_k Σ_k`` is not ``X V_k`` (as in
        :class:`~sklearn.decomposition.TruncatedSVD`, which returns
        ``X V_k`` for its approximate solvers).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        Z : ndarray of shape (n_samples, `n_components_`)
            The coordinates of X in the basis of the right singular vectors.
        """
        return self._fit(X, coordinates_wanted=True)

    @fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, *, coordinates_wanted):
        """fit, returning ``X V_k`` if ``coordinates_wanted`` (else None)."""
        stream.forget(self)  # partial_fit starts over
        backend = backend_for(X)
        # Dense entries are checked by the pass that sums their squares.
        data = backend.validate(self, X, dense_finite=False)
        solver = self._solver()

        # Extreme data (entries near 1e±160) are solved scaled by one power
        # of two, exactly; singular values and coordinates are scaled back.
        # An extreme entry the sampled scale missed overflows ‖X‖²: then the
        # scale of every entry is used.
        def fit(x_scale):
            return backend.truncated_svd(
                data,
                solver,
                self.n_components,
                self.random_state,
                name=self.algorithm,
                x_scale=x_scale,
                coordinates=coordinates_wanted,
            )

        fit, Z = backend.at_scale(fit, data, (FloatingPointError,))
        self._set_fit(fit, *data.shape, data.dtype)
        self.algorithm_ = solver
        backend.publish(self, _ARRAY_ATTRIBUTES)
        return Z

    def _solver(self):
        return resolve(
            "svd_solver",
            self.algorithm,
            param="algorithm",
            n_oversamples=self.n_oversamples,
            n_iter=self.n_iter,
            tol=self.tol,
        )

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: MatrixLike, y: object = None) -> TruncatedSVDCompressor:
        """Add a chunk of rows: the fit is then the exact one of all rows seen.

        The rows enter through their mean and the R factor of the centred
        rows (see :mod:`skla._algorithms.statistics`); after every call the
        singular values, ``components_`` and every figure are those of the
        exact SVD of all the rows so far -- ``fit(..., algorithm="full")`` to
        rounding -- whatever ``algorithm`` says.  The state is
        ``n_features²`` numbers, so this suits up to a few thousand
        features (8 MB at 1000, 800 MB at 10000); beyond, fit a randomized
        SVD on the data instead.  Rows are never stored, and :meth:`fit`
        starts over.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of rows (CSR/CSC chunks are read in dense row blocks).
        y : None
            Ignored.

        Returns
        -------
        self : TruncatedSVDCompressor
            The transformer, fitted to every row seen.

        Examples
        --------
        >>> import numpy as np
        >>> from skla import TruncatedSVDCompressor
        >>> X = np.random.default_rng(0).standard_normal((1000, 20))
        >>> svd = TruncatedSVDCompressor(3)
        >>> for rows in np.array_split(np.arange(1000), 4):
        ...     svd = svd.partial_fit(X[rows])
        >>> s = np.linalg.svd(X, compute_uv=False)[:3]
        >>> bool(np.allclose(svd.singular_values_, s))
        True
        """
        backend = backend_for(X)
        first = stream.starts(self, "components_")
        data = backend.validate(self, X, reset=first)
        chunk = backend.row_statistics(data, centre=True)
        statistics = stream.fold(self, backend, chunk, first=first)
        fit = exact_svd_figures(statistics, self.n_components)
        self._set_fit(fit, statistics.n_rows, statistics.n_features, data.dtype)
        self.algorithm_ = None
        backend.publish(self, _ARRAY_ATTRIBUTES)
        stream.keep(self, backend, statistics)
        return self

    def _set_fit(self, fit, m, n, dtype):
        """An ``ExactSVD``-like fit of an m × n matrix as fitted attributes."""
        self.components_ = np.asarray(fit.components, dtype=dtype)
        self.n_components_ = len(fit.singular_values)
        self.singular_values_ = np.asarray(fit.singular_values, dtype=dtype)
        self.explained_variance_ = fit.figures.explained_variance
        self.explained_variance_ratio_ = fit.figures.explained_variance_ratio
        self.explained_energy_ratio_ = fit.figures.explained_energy_ratio
        self.reconstruction_error_ = fit.figures.reconstruction_error
        self.compression_ratio_ = m * n / (self.n_components_ * (m + n + 1))

    def transform(self, X: MatrixLike) -> ArrayResult:
        """Project X onto the right singular vectors, ``Z = X V_k``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Z : ndarray of shape (n_samples, `n_components_`)
            Coordinates, in the dtype of ``components_``.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="components_", method="transform")
        return backend_for(X).apply(
            self, X, coordinates, (self.components_,), n_outputs=self.n_components_
        )

    def inverse_transform(self, X: MatrixLike) -> ArrayResult:
        """Map coordinates back to the data space, ``X̂ = Z V_kᵀ``.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_components_`)
            Coordinates, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The rank-k approximation.
        """
        check_is_fitted(self)
        check_same_namespace(
            X, self, attribute="components_", method="inverse_transform"
        )
        return backend_for(X).apply(
            self,
            X,
            _reconstruction,
            (self.components_,),
            n_outputs=self.components_.shape[1],
            n_columns=self.n_components_,
        )

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _reconstruction(Z, components):
    """``Z V_kᵀ``, the rank-k approximation of the rows of coordinates Z."""
    return Z @ components
