"""TruncatedSVDCompressor: the seed's rank-k approximation as a transformer."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.extmath import svd_flip
from sklearn.utils.validation import (
    assert_all_finite,
    check_array,
    check_is_fitted,
    validate_data,
)

from .._algorithms.scaling import power_of_two_scale, retry_at_full_scale
from .._algorithms.statistics import RowStatistics
from .._algorithms.svd import truncated_svd
from .._algorithms.svd_figures import (
    coordinates,
    coordinates_for_figures,
    exact_svd_figures,
    figures,
    square_sums,
)
from .._algorithms.svd_figures import (  # noqa: F401 (tests import it from here)
    total_variance as _total_variance,
)
from .._array_api import namespace_of, unsupported
from .._dask import is_dask_collection, predict_blocks
from ..plugins import parameter_constraint, resolve

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
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
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
        copy.  A dask array is fitted on its cluster (:mod:`skla._dask_svd`):
        exactly from its R factor for "full", "arpack", "propack", and
        "auto" up to 1024 features; else by a randomized range finder.
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
        n_components=2,
        *,
        algorithm="auto",
        n_oversamples=10,
        n_iter="auto",
        random_state=None,
        tol=0.0,
    ):
        self.n_components = n_components
        self.algorithm = algorithm
        self.n_oversamples = n_oversamples
        self.n_iter = n_iter
        self.random_state = random_state
        self.tol = tol

    def fit(self, X, y=None):
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

    def fit_transform(self, X, y=None):
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

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, *, coordinates_wanted):
        """fit, returning ``X V_k`` if ``coordinates_wanted`` (else None)."""
        if is_dask_collection(X):
            self._fit_dask(X)
            return self.transform(X) if coordinates_wanted else None
        self.__dict__.pop("_statistics", None)  # partial_fit starts over
        ns = namespace_of(X)
        if ns is not None:
            return self._fit_namespace(ns, X)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            # Dense entries are checked by the pass that sums their squares.
            ensure_all_finite=sp.issparse(X),
        )
        solver = self._solver()
        self.algorithm_ = solver
        # Extreme data (entries near 1e±160) are solved scaled by one power
        # of two, exactly; singular values and coordinates are scaled back.
        # An extreme entry the sampled scale missed overflows ‖X‖²: then the
        # scale of every entry is used.
        return retry_at_full_scale(
            lambda scale: self._fit_scaled(solver, X, scale, coordinates_wanted),
            X,
            power_of_two_scale(X),
            (FloatingPointError,),
        )

    def _solver(self):
        return resolve(
            "svd_solver",
            self.algorithm,
            param="algorithm",
            n_oversamples=self.n_oversamples,
            n_iter=self.n_iter,
            tol=self.tol,
        )

    def _fit_scaled(self, solver, X, scale, coordinates_wanted):
        scaled = X * scale if scale != 1.0 else X
        # One pass for ‖X‖² and the total variance; it also checks the
        # entries (validate_data skipped that for dense X).
        with np.errstate(over="ignore", invalid="ignore"):
            total, total_var = square_sums(scaled)
        if not np.isfinite(total):
            assert_all_finite(X, input_name="X")  # NaN or inf: sklearn's error
            raise FloatingPointError(
                "‖X‖² overflows the floating-point range even after scaling X "
                "by a power of two."
            )
        U, s, Vt = truncated_svd(
            solver,
            scaled,
            self.n_components,
            self.random_state,
            squared_norm=total,
            compute_u=False,
        )
        U, Vt = svd_flip(U, Vt, u_based_decision=False)
        self.components_ = np.asarray(Vt, dtype=X.dtype)
        self.n_components_ = len(s)
        Z = coordinates(X, self.components_) if coordinates_wanted else None
        fit = figures(
            scaled,
            self.components_,
            s,
            total=total,
            scale=scale,
            total_var=total_var,
            Z=coordinates_for_figures(Z, U, s, scale),
        )
        self.explained_variance_ = fit.explained_variance
        self.explained_variance_ratio_ = fit.explained_variance_ratio
        self.explained_energy_ratio_ = fit.explained_energy_ratio
        self.reconstruction_error_ = fit.reconstruction_error
        m, n = X.shape
        self.compression_ratio_ = m * n / (len(s) * (m + n + 1))
        with np.errstate(over="ignore"):
            self.singular_values_ = np.asarray(s / scale, dtype=X.dtype)
        return Z

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
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
        ns = namespace_of(X)
        if ns is not None:  # fit has a route; the stream's chunks do not yet
            raise unsupported("TruncatedSVDCompressor.partial_fit", ns)
        first = not hasattr(self, "_statistics")
        if first and hasattr(self, "components_"):
            warnings.warn(
                "TruncatedSVDCompressor.partial_fit after fit starts a new "
                "stream: the rows given to fit are not in it. Feed every chunk "
                "through partial_fit for the SVD of all rows.",
                UserWarning,
                stacklevel=2,
            )
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            reset=first,
        )
        no_targets = np.empty((X.shape[0], 0), dtype=X.dtype)
        statistics = RowStatistics.of(X, no_targets, None, centre=True)
        if not first:
            statistics = self._statistics.merge(statistics)
        self._set_from_statistics(statistics, X.dtype)
        self._statistics = statistics
        return self

    def _set_from_statistics(self, statistics, dtype):
        """The exact SVD of the rows behind ``statistics``, as fitted attributes."""
        fit = exact_svd_figures(statistics, self.n_components)
        self._set_fit(fit, statistics.n_rows, statistics.n_features, dtype)
        self.algorithm_ = None

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

    def _fit_dask(self, X):
        """fit on a dask array, on its cluster: the exact SVD of X's R factor
        (one pass; d² numbers per chunk travel), as :meth:`partial_fit`, or a
        randomized range finder (d × l numbers travel), as
        :func:`skla._dask_svd.range_finder` chooses."""
        from .._dask import _check_rows, row_statistics
        from .._dask_svd import randomized_svd, range_finder

        solver = self._solver()
        X = _check_rows(X)
        finder = range_finder(solver, X.shape[1], self.algorithm)
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        if finder is None:
            statistics = row_statistics(X, None, None, centre=True)
            self._set_from_statistics(statistics, dtype)
        else:
            fit = randomized_svd(X, self.n_components, finder, self.random_state)
            self._set_fit(fit, *X.shape, dtype)
        self.algorithm_ = solver
        self.n_features_in_ = X.shape[1]
        self.__dict__.pop("feature_names_in_", None)
        self.__dict__.pop("_statistics", None)  # partial_fit starts over
        return self

    def _fit_namespace(self, ns, X):
        """fit_transform on an array of an array-API namespace (torch,
        cupy...): the products with X there, on X's device; the small SVDs
        in numpy (see :mod:`skla._array_api_svd`)."""
        from .._array_api_svd import namespace_svd

        X = validate_data(self, X, dtype=[ns.xp.float64, ns.xp.float32])
        solver = self._solver()
        fit = namespace_svd(ns, X, self.n_components, solver, self.random_state)
        self._set_fit(fit, *X.shape, fit.components.dtype)
        self.algorithm_ = solver
        ns.move_attributes(self, _ARRAY_ATTRIBUTES)
        return fit.Z

    def transform(self, X):
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
        ns = namespace_of(X)
        if ns is not None:  # in X's namespace, on its device
            float_dtypes = [ns.xp.float64, ns.xp.float32]
            X = validate_data(self, X, dtype=float_dtypes, reset=False)
            return X @ ns.xp.astype(self.components_, X.dtype).T
        if is_dask_collection(X):  # lazy, chunked by rows like X
            dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
            return predict_blocks(self.transform, X, self.n_components_, dtype)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            reset=False,
        )
        return coordinates(X, self.components_)

    def inverse_transform(self, X):
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
        ns = namespace_of(X)
        if ns is not None:  # in X's namespace, on its device
            Z = check_array(X, dtype=[ns.xp.float64, ns.xp.float32])
            self._check_coordinates(Z)
            return Z @ ns.xp.astype(self.components_, Z.dtype)
        if is_dask_collection(X):  # lazy, chunked by rows like X
            dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
            return predict_blocks(
                self.inverse_transform, X, self.components_.shape[1], dtype
            )
        Z = check_array(X, dtype=(np.float64, np.float32))
        self._check_coordinates(Z)
        return Z @ self.components_.astype(Z.dtype, copy=False)

    def _check_coordinates(self, Z):
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {Z.shape[1]} columns; inverse_transform expects "
                f"n_components_ = {self.n_components_} coordinates per row."
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
