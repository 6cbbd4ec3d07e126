"""Reading a fitted skla estimator for ONNX, and the output it gives.

skl2onnx calls the shape calculators first, while it builds the graph's
topology: they refuse what cannot be exported before any node is written.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "calculate_linear_regressor_output_shapes",
    "calculate_truncated_svd_output_shapes",
    "linear_parameters",
    "projection",
]


def _fitted_array(model, name):
    """``model.name`` as a numpy array, or an error naming the estimator.

    The graph stores the fitted values, so they must be numpy's: an
    array-API array (a fit under ``array_api_dispatch``) may live on a
    device, and copying it silently to the host is the user's decision.
    """
    value = getattr(model, name)
    if isinstance(value, (np.ndarray, np.generic, float, int)):
        return np.asarray(value, dtype=np.float64)
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    raise TypeError(
        f"{type(model).__name__}.{name} is a {kind}, not a numpy array: ONNX "
        f"export stores numpy values. Fit {type(model).__name__} on numpy "
        "arrays (without array_api_dispatch) to convert it."
    )


def _check_fitted(model, attribute):
    check_is_fitted(
        model,
        attribute,
        msg="This %(name)s instance is not fitted yet: fit it before "
        "converting it to ONNX.",
    )


def linear_parameters(model):
    """``(β, b)``: β = ``coef_ᵀ`` of shape (n_features, n_targets) and b =
    ``intercept_`` broadcast to (n_targets,), in float64."""
    _check_fitted(model, "coef_")
    coef = _fitted_array(model, "coef_")
    intercept = _fitted_array(model, "intercept_")
    beta = coef.reshape(-1, coef.shape[-1]).T
    return beta, np.broadcast_to(intercept.reshape(-1), (beta.shape[1],))


def projection(model):
    """``V_k = components_ᵀ``, of shape (n_features, k), in float64."""
    _check_fitted(model, "components_")
    return _fitted_array(model, "components_").T


def _output_type(operator, n_columns, n_features):
    """Check one numeric input of ``n_features`` columns and set the one
    output to (N, n_columns) of the type the graph computes in."""
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
    )
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )

    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(
        operator,
        good_input_types=[
            BooleanTensorType,
            DoubleTensorType,
            FloatTensorType,
            Int64TensorType,
        ],
    )
    shape = operator.inputs[0].type.shape
    if len(shape) == 2 and isinstance(shape[1], int) and shape[1] != n_features:
        raise ValueError(
            f"{type(operator.raw_operator).__name__} was fitted on {n_features} "
            f"features; the ONNX input {operator.inputs[0].onnx_name!r} has "
            f"{shape[1]} columns."
        )
    double = isinstance(operator.inputs[0].type, DoubleTensorType)
    output_type = DoubleTensorType if double else FloatTensorType
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = output_type([n_rows, n_columns])


def calculate_linear_regressor_output_shapes(operator):
    """skl2onnx shape calculator of skla's linear regressors.

    Parameters
    ----------
    operator : skl2onnx.common._topology.Operator
        The operator of a fitted :class:`~skla.PinvRegressor`,
        :class:`~skla.GDRegressor` or :class:`~skla.SGDMiniBatchRegressor`.

    Examples
    --------
    skl2onnx calls it while it converts a model:

    >>> import numpy as np
    >>> import skla.onnx
    >>> from skl2onnx import to_onnx
    >>> from skla import GDRegressor
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> onx = to_onnx(GDRegressor().fit(X, X @ [[1.0, 2.0], [3.0, 4.0]]), X[:1])
    >>> [d.dim_value for d in onx.graph.output[0].type.tensor_type.shape.dim]
    [0, 2]
    """
    beta, _ = linear_parameters(operator.raw_operator)
    _output_type(operator, n_columns=beta.shape[1], n_features=beta.shape[0])


def calculate_truncated_svd_output_shapes(operator):
    """skl2onnx shape calculator of :class:`~skla.TruncatedSVDCompressor`.

    Parameters
    ----------
    operator : skl2onnx.common._topology.Operator
        The operator of a fitted TruncatedSVDCompressor.

    Examples
    --------
    >>> import numpy as np
    >>> import skla.onnx
    >>> from skl2onnx import to_onnx
    >>> from skla import TruncatedSVDCompressor
    >>> X = np.random.default_rng(0).standard_normal((20, 5))
    >>> onx = to_onnx(TruncatedSVDCompressor(3).fit(X), X[:1])
    >>> [d.dim_value for d in onx.graph.output[0].type.tensor_type.shape.dim]
    [0, 3]
    """
    V = projection(operator.raw_operator)
    _output_type(operator, n_columns=V.shape[1], n_features=V.shape[0])
