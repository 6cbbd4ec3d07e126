"""skl2onnx converters of skla's estimators: the graphs of predict and
transform."""

from __future__ import annotations

import numpy as np

from ._shapes import linear_parameters, projection

__all__ = ["convert_linear_regressor", "convert_truncated_svd"]


def _graph_input(scope, operator, container):
    """The name of the input in the graph's float type, and that type's
    ``(numpy dtype, ONNX element type)``: float64 for double input, else
    float32, casting integer and boolean input first (MatMul takes floats)."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
    )

    X = operator.inputs[0]
    if isinstance(X.type, DoubleTensorType):
        return X.full_name, np.float64, TensorProto.DOUBLE
    if isinstance(X.type, FloatTensorType):
        return X.full_name, np.float32, TensorProto.FLOAT
    cast = scope.get_unique_variable_name("X_float")
    container.add_node(
        "Cast",
        X.full_name,
        cast,
        name=scope.get_unique_operator_name("Cast"),
        to=TensorProto.FLOAT,
    )
    return cast, np.float32, TensorProto.FLOAT


def _constant(scope, container, name, value, dtype, element_type):
    """Store ``value`` in the graph as an initializer in ``dtype``."""
    unique = scope.get_unique_variable_name(name)
    value = np.ascontiguousarray(value, dtype=dtype)
    container.add_initializer(unique, element_type, value.shape, value.ravel())
    return unique


def convert_linear_regressor(scope, operator, container):
    """skl2onnx converter of skla's linear regressors: ``X β + b``.

    The same graph as skl2onnx's for LinearRegression on double input
    (``MatMul`` then ``Add``), here for every input type, so that float32
    and float64 graphs compute the same expression.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Hands out the graph's unique names.
    operator : skl2onnx.common._topology.Operator
        The operator of a fitted :class:`~skla.PinvRegressor`,
        :class:`~skla.GDRegressor` or :class:`~skla.SGDMiniBatchRegressor`.
    container : skl2onnx.common._container.ModelComponentContainer
        Receives the nodes and initializers.

    Examples
    --------
    >>> import numpy as np
    >>> import skla.onnx
    >>> from skl2onnx import to_onnx
    >>> from skla import SGDMiniBatchRegressor
    >>> X = np.random.default_rng(0).standard_normal((50, 2))
    >>> model = SGDMiniBatchRegressor(random_state=0).fit(X, X @ [1.0, 2.0])
    >>> [node.op_type for node in to_onnx(model, X[:1]).graph.node]
    ['MatMul', 'Add']
    """
    beta, b = linear_parameters(operator.raw_operator)
    X, dtype, element_type = _graph_input(scope, operator, container)
    beta_name = _constant(scope, container, "beta", beta, dtype, element_type)
    b_name = _constant(scope, container, "intercept", b, dtype, element_type)
    product = scope.get_unique_variable_name("X_beta")
    matmul = scope.get_unique_operator_name("MatMul")
    container.add_node("MatMul", [X, beta_name], product, name=matmul)
    container.add_node(
        "Add",
        [product, b_name],
        operator.outputs[0].full_name,
        name=scope.get_unique_operator_name("Add"),
    )


def convert_truncated_svd(scope, operator, container):
    """skl2onnx converter of :class:`~skla.TruncatedSVDCompressor`: ``X V_k``.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Hands out the graph's unique names.
    operator : skl2onnx.common._topology.Operator
        The operator of a fitted TruncatedSVDCompressor.
    container : skl2onnx.common._container.ModelComponentContainer
        Receives the nodes and initializers.

    Examples
    --------
    >>> import numpy as np
    >>> import skla.onnx
    >>> from skl2onnx import to_onnx
    >>> from skla import TruncatedSVDCompressor
    >>> X = np.random.default_rng(0).standard_normal((20, 5))
    >>> onx = to_onnx(TruncatedSVDCompressor(3).fit(X), X[:1])
    >>> [node.op_type for node in onx.graph.node]
    ['MatMul']
    """
    V = projection(operator.raw_operator)
    X, dtype, element_type = _graph_input(scope, operator, container)
    V_name = _constant(scope, container, "V_k", V, dtype, element_type)
    Z = operator.outputs[0].full_name
    matmul = scope.get_unique_operator_name("MatMul")
    container.add_node("MatMul", [X, V_name], Z, name=matmul)
