"""The curvature of a batch's loss, and the SGD steps it allows.

For a loss with smoothness ``s``, a batch's mean loss has curvature at most
``s · λmax(Σ_b v_i x̃_i x̃_iᵀ)`` with ``x̃ = [x, 1]`` (the intercept's column)
and ``v_i = w_i / |b|``: :func:`largest_curvature` measures that λmax.  From
it, on the first window of an epoch, :mod:`.minibatch` takes

- the **step cap** (:func:`step_cap`): an update with a step above ``2 / L``
  overshoots its batch's minimum and, repeated, diverges;
- the **stable step** (:func:`stable_step`) of ``learning_rate="auto"``:
  ``1 / (s · L_B)``, ``L_B`` the expected curvature of a batch of B rows
  (:func:`batch_curvature`; see :class:`~skla.components.schedules.Auto`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import get_blas_funcs
from sklearn.utils.extmath import row_norms, safe_sparse_dot

from .._data import batch_weights, is_rounding_noise
from ._linalg import power_iteration

__all__ = [
    "CURVATURE_ROWS",
    "SAFE_FACTOR",
    "SINGLE_PRECISION_ROWS",
    "augmented_norms",
    "batch_curvature",
    "largest_curvature",
    "stable_step",
    "step_cap",
]

# Rows of the first window that measure the full-batch curvature.
CURVATURE_ROWS = 1024
# Steps are capped at SAFE_FACTOR / L (stability needs < 2 / L).
SAFE_FACTOR = 1.5
# A batch of more rows has its Gram matrix taken in float32, twice as fast:
# there its λmax is only the step cap's estimate, which the safety factor
# allows 25% of (float32 is off by about 1e-6).  The auto step's curvature
# (CURVATURE_ROWS) and smaller batches' caps stay in float64.
SINGLE_PRECISION_ROWS = 8 * CURVATURE_ROWS
# The float32 λmax is trusted within these bounds: far from overflow (3e38,
# or an inf entry) and from underflow, where squares below 1e-38 vanish
# (data that are all tiny would give 0, hence no cap at all).
_FLOAT32_SAFE = (1e-24, 1e30)


def largest_curvature(Xb, v, fit_intercept, *, max_dense=2048, n_power=30):
    """λmax of ``Σ v_i x̃_i x̃_iᵀ``, ``x̃ = [x, 1]`` with an intercept, else x.

    Power iteration, on the smaller Gram matrix when it has at most
    ``max_dense`` rows, else on the implicit product.  It approaches λmax
    from below; the safety factor of the step cap covers the gap.  (A dense
    eigensolver costs milliseconds of thread start-up for a 100×100 matrix.)
    """
    m, d = Xb.shape
    n_cols = d + bool(fit_intercept)
    if not sp.issparse(Xb) and n_cols < m and n_cols <= max_dense:
        if m > SINGLE_PRECISION_ROWS:
            K = _weighted_gram(Xb, v, fit_intercept, dtype=np.float32)
            largest = power_iteration(K, n_cols, n_iter=n_power)
            if _FLOAT32_SAFE[0] <= largest <= _FLOAT32_SAFE[1]:
                return largest
        # Few rows, or beyond float32's comfortable range (or zero).
        K = _weighted_gram(Xb, v, fit_intercept)
        return power_iteration(K, n_cols, n_iter=n_power)
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
        apply = K
        n_cols = m
    elif n_cols <= max_dense:
        K = np.empty((n_cols, n_cols))
        K[:d, :d] = safe_sparse_dot(A.T, A, dense_output=True)
        if ones is not None:
            K[:d, d] = K[d, :d] = safe_sparse_dot(A.T, ones)
            K[d, d] = ones @ ones
        apply = K
    return power_iteration(apply, n_cols, n_iter=n_power)


def _weighted_gram(X, v, fit_intercept, *, dtype=np.float64, block_bytes=2**19):
    """``Σ v_i x̃_i x̃_iᵀ`` of dense X by blocks of rows, summed in float64.

    Each block is scaled by ``√v`` into one reused buffer of ``dtype`` (with
    the intercept's column ``√v``) and its Gram matrix taken by ``syrk``:
    half a ``gemm``'s flops, at BLAS-3 speed.  In float32 (``ssyrk``) it
    costs 62 ms on 200000 × 100, against 87 ms in float64 and 0.19 s for
    products of 256-row blocks.  Entries beyond float32's range overflow or
    underflow silently: the caller checks the result.
    """
    m, d = X.shape
    n = d + bool(fit_intercept)
    rows = max(256, block_bytes // (n * np.dtype(dtype).itemsize))
    syrk = get_blas_funcs("syrk", dtype=dtype)
    K = np.zeros((n, n))
    buffer = np.empty((min(rows, m), n), dtype=dtype)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for start in range(0, m, rows):
            root = np.sqrt(v[start : start + rows], dtype=np.float64)
            A = buffer[: len(root)]
            np.multiply(
                X[start : start + rows], root[:, None], out=A[:, :d], casting="unsafe"
            )
            if fit_intercept:
                A[:, d] = root
            # A is C-ordered, so A.T is Fortran-ordered: no copy.  Each
            # block's matrix is added in float64.
            K += syrk(1.0, A.T)
    return np.triu(K) + np.triu(K, 1).T  # syrk fills the upper triangle


def augmented_norms(X, fit_intercept):
    """Each row's ``‖x̃ᵢ‖²``, ``x̃ = [x, 1]`` with an intercept, else x.

    Examples
    --------
    >>> import numpy as np
    >>> augmented_norms(np.array([[3.0, 4.0]]), True)
    array([26.])
    """
    return row_norms(X, squared=True) + (1.0 if fit_intercept else 0.0)


def step_cap(Xw, ww, smoothness, batch_size, fit_intercept, *, n_probe=4, norms=None):
    """``SAFE_FACTOR / L``, L the largest curvature seen on the first window.

    L is the larger of the curvatures measured on the first ``n_probe``
    batches of the first (shuffled) window, and of each row's own share of
    any batch it falls in, ``wᵢ ‖x̃ᵢ‖² / B`` (a lower bound on that batch's
    curvature, exact at ``B = 1``): a few probe batches of one row each
    missed the longest rows, and steps above their ``2 / L`` blew up (1e15
    in two epochs on 200 Gaussian rows).  A loss without a smoothness bound
    has no cap here (infinity) and gets one from its stable step instead.
    ``norms``: the rows' ``‖x̃ᵢ‖²`` if the caller has them
    (:func:`augmented_norms`).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 3.0], [1.0, 1.0]])  # ‖x₂‖² = 9
    >>> float(step_cap(X, None, 1.0, 1, False, n_probe=1))  # 1.5 / 9
    0.16666666666666666
    """
    if not smoothness:
        return np.inf
    B = batch_size
    largest = 0.0
    for j in range(min(n_probe, -(-Xw.shape[0] // B))):
        Xb = Xw[j * B : (j + 1) * B]
        v = batch_weights(None if ww is None else ww[j * B : (j + 1) * B], Xb.shape[0])
        largest = max(largest, largest_curvature(Xb, v, fit_intercept))
    if Xw.shape[0]:
        if norms is None:
            norms = augmented_norms(Xw, fit_intercept)
        shares = norms if ww is None else ww * norms
        largest = max(largest, float(np.max(shares)) / min(B, Xw.shape[0]))
    return SAFE_FACTOR / (smoothness * largest) if largest > 0 else np.inf


def batch_curvature(Zw, v, n_rows, batch_size, fit_intercept, *, norms=None):
    """The full-batch λmax and the expected smoothness of a batch of B rows.

    The expectation runs from the full-batch λmax (B = n) to a single row's
    largest ``‖x̃‖²`` (B = 1), as in Gower et al. (2019); both are measured
    on the window ``Zw`` with weights ``v`` summing to one (``norms``: its
    rows' ``‖x̃ᵢ‖²``, if the caller has them).
    """
    m = Zw.shape[0]
    probe = min(m, CURVATURE_ROWS)  # rows enough for λmax, little memory
    curvature = largest_curvature(
        Zw[:probe], v[:probe] / v[:probe].sum(), fit_intercept
    )
    if norms is None:
        norms = augmented_norms(Zw, fit_intercept)
    single = float(np.max(m * v * norms)) if m else 0.0
    n, B = max(n_rows, 1), min(batch_size, max(n_rows, 1))
    if n > 1:
        expected = (n * (B - 1) * curvature + (n - B) * single) / (B * (n - 1))
    else:
        expected = single
    return curvature, expected if expected > 0 else 1.0


def stable_step(smoothness, gradient_bound, Yw, v, expected, *, weight=1.0):
    """The step of ``learning_rate="auto"``, and whether the loss acts smooth.

    A loss without a curvature bound has subgradients that do not shrink
    near the optimum; its step is the one that moves the predictions by
    about the targets' spread around their mean (1 when the targets are
    constant up to rounding).  So is a smooth loss whose gradient is bounded
    (``gradient_bound``, Huber's ``epsilon``) below the targets' spread:
    most residuals sit where it is linear.

    ``weight`` is the mean sample weight.  An update scales each sample's
    gradient by its weight (``Σ wᵢ ℓᵢ / n``, as SGDRegressor), so weights
    of 1e6 move the predictions a million times further: the linear step is
    divided by it.  (The smooth step needs no such care: its steps are
    capped by :func:`step_cap`, which reads the weights themselves.)

    Examples
    --------
    >>> import numpy as np
    >>> Y, v = np.array([[0.0], [2.0]]), np.array([0.5, 0.5])
    >>> stable_step(None, None, Y, v, 2.0)  # spread 1 over curvature 2
    (0.5, False)
    >>> stable_step(None, None, Y, v, 2.0, weight=1e6)
    (5e-07, False)
    """
    # einsum, not numpy's BLAS: see power_iteration.
    centre = np.einsum("i,ij->j", v, Yw)
    variance = np.einsum("i,ij->j", v, np.square(Yw - centre))
    spread = float(np.sqrt(variance).max())
    linear = not smoothness or (gradient_bound is not None and gradient_bound < spread)
    if not linear:
        return 1.0 / (smoothness * expected), True
    if np.all(is_rounding_noise(variance, centre, Yw.dtype)):
        spread = 1.0
    return spread / ((gradient_bound or 1.0) * expected * weight), False
