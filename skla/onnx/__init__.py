"""ONNX export of skla's estimators, through skl2onnx.

Importing this module registers a shape calculator and a converter for each
of skla's four estimators with `skl2onnx <https://onnx.ai/sklearn-onnx/>`_,
so that :func:`skl2onnx.to_onnx` converts them, alone or inside a
:class:`~sklearn.pipeline.Pipeline`.  Install both with
``pip install "skla[onnx]"``; ``import skla`` imports neither.  Without
skl2onnx this module imports but registers nothing, and :func:`register`
raises an ``ImportError`` that says what to install.

Each estimator becomes the products its ``predict`` or ``transform``
computes:

======================  ================================  ==============
estimator               graph                             output shape
======================  ================================  ==============
PinvRegressor           ``MatMul(X, β) + b``, with        (n, n_targets)
                        ``β = coef_ᵀ`` and
                        ``b = intercept_``
GDRegressor             the same                          (n, n_targets)
SGDMiniBatchRegressor   the same                          (n, n_targets)
TruncatedSVDCompressor  ``MatMul(X, V_k)``, with          (n, k)
                        ``V_k = components_ᵀ``
                        (no centring)
======================  ================================  ==============

A single-target regressor gives an (n, 1) output, as skl2onnx's
:class:`~sklearn.linear_model.LinearRegression` does, where ``predict`` gives
(n,): ravel it to compare.  The graph computes in its input's type --
float32 for a ``FloatTensorType`` (the coefficients rounded to float32),
float64 for a ``DoubleTensorType``; integer and boolean inputs are cast to
float32 first.

Only what ``predict`` and ``transform`` read is exported, so every loss,
penalty and solver converts.  Refused, with an error that names the
estimator: an unfitted one (:class:`~sklearn.exceptions.NotFittedError`), one
whose fitted arrays are not numpy arrays (fitted under
``array_api_dispatch``: a ``TypeError``; the graph stores numpy values), and
an input whose number of columns is not the fitted one (``ValueError``).  A
subclass is not converted: skl2onnx looks converters up by exact class, and a
subclass may compute something else.

Examples
--------
>>> import numpy as np
>>> import onnxruntime
>>> import skla.onnx  # registers the converters
>>> from skl2onnx import to_onnx
>>> from skla import PinvRegressor
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((100, 3)).astype(np.float32)
>>> y = X @ np.array([1.0, -2.0, 0.5], dtype=np.float32) + 3.0
>>> model = PinvRegressor().fit(X, y)
>>> onx = to_onnx(model, X[:1])
>>> session = onnxruntime.InferenceSession(
...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
... )
>>> (y_onnx,) = session.run(None, {"X": X})
>>> y_onnx.shape
(100, 1)
>>> bool(np.allclose(y_onnx.ravel(), model.predict(X), atol=1e-4))
True
"""

from __future__ import annotations

import contextlib

from ..decomposition import TruncatedSVDCompressor
from ..linear_model import GDRegressor, PinvRegressor, SGDMiniBatchRegressor
from ._converters import convert_linear_regressor, convert_truncated_svd
from ._shapes import (
    calculate_linear_regressor_output_shapes,
    calculate_truncated_svd_output_shapes,
)

__all__ = [
    "ALIASES",
    "calculate_linear_regressor_output_shapes",
    "calculate_truncated_svd_output_shapes",
    "convert_linear_regressor",
    "convert_truncated_svd",
    "register",
]

#: The skl2onnx alias of each estimator: the name its operators carry.
ALIASES = {
    PinvRegressor: "SklaPinvRegressor",
    GDRegressor: "SklaGDRegressor",
    SGDMiniBatchRegressor: "SklaSGDMiniBatchRegressor",
    TruncatedSVDCompressor: "SklaTruncatedSVDCompressor",
}


def register():
    """Register skla's converters with skl2onnx (done on import).

    Calling it again replaces the registrations with the same ones.

    Raises
    ------
    ImportError
        If skl2onnx is not installed.

    Examples
    --------
    >>> import skla.onnx
    >>> from skl2onnx import supported_converters
    >>> skla.onnx.register()
    >>> [name for name in supported_converters() if name.startswith("Skla")]
    ['SklaGDRegressor', 'SklaPinvRegressor', 'SklaSGDMiniBatchRegressor', \
'SklaTruncatedSVDCompressor']
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as error:
        raise ImportError(
            'ONNX export needs skl2onnx: pip install "skla[onnx]".'
        ) from error
    linear = (calculate_linear_regressor_output_shapes, convert_linear_regressor)
    projection = (calculate_truncated_svd_output_shapes, convert_truncated_svd)
    for estimator, alias in ALIASES.items():
        shapes, convert = projection if estimator is TruncatedSVDCompressor else linear
        update_registered_converter(estimator, alias, shapes, convert)


# The module stays importable without skl2onnx, as skla's dask backend does
# without dask, so that walking the package (skla.utils.discovery, the
# doctests) needs no extra; without skl2onnx there is nothing to register
# with, and register() says what to install.
with contextlib.suppress(ImportError):
    register()
